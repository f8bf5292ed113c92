/**
 * Public surface of the capture module: live capture (npm `cap` + kernel
 * counters), BPF filter building, pcap/pcapng reading and pcap writing.
 */
export { LiveCapture, DEFAULT_BUFFER_BYTES, DEFAULT_SNAPLEN, MAX_SNAPLEN } from './live-capture.js';
export type { CaptureStats, InterfaceCaptureStats, LiveCaptureOptions } from './live-capture.js';
export { buildBpfFilter, planBpfFilter, MAX_PORT_TERMS, MAX_SERVER_TERMS } from './bpf-filter.js';
export type { BpfFilterPlan, BpfFilterSpec, FilterBroadening, Transport } from './bpf-filter.js';
export { compileBpfFilter, matchBpfFilter } from './native.js';
export { readPcapFile, readPcapFileBytes, READ_CHUNK_BYTES } from './pcap-file.js';
export { PcapStreamReader } from './pcap-reader.js';
export type { PcapEndKind, PcapInterface, PcapReadResult, PcapRecordSink } from './pcap-reader.js';
export { MemoryPcapOutput, PcapWriter, WRITER_BUFFER_BYTES } from './pcap-writer.js';
export type { PcapOutput, PcapWriterOptions, PcapWriterStats } from './pcap-writer.js';
export type { TsPrecision } from './pcap-format.js';
export type { FrameBytesSink, FrameSink } from './frame-sink.js';
export * from './link-types.js';
export * from './errors.js';
