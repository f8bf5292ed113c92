// The shared suite every analyzer passes (empty, random, truncated, split, gapped input), on OpenNap samples.
import { describeAnalyzerCompliance } from '../analyzer-compliance.js';
import { encodeFrame } from '../../opennap/codec.js';
import { MessageType as T } from '../../opennap/message-types.js';
import { openNapRegistration } from './index.js';

describeAnalyzerCompliance(openNapRegistration, {
  validToServer: [
    encodeFrame(T.Login, 'alice pw 6699 "nap v0.8" 3'),
    encodeFrame(T.Search, 'FILENAME CONTAINS "rock" MAX_RESULTS 100'),
    encodeFrame(T.Search, 'FILENAME CONTAINS "jazz" MAX_RESULTS 10'),
  ],
  validToClient: [
    encodeFrame(T.LoginAck, 'anon@localhost'),
    Buffer.concat([encodeFrame(T.SearchResult, '"rock a.mp3" 0123 1000 128 44100 60 bob 16777343 3'), encodeFrame(T.SearchEnd)]),
    encodeFrame(T.SearchEnd),
  ],
});
