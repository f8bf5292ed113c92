/**
 * OpenNap message type numbers (napster.txt §2). Only the types this project
 * interprets are named; every other type is relayed as a raw frame.
 */
export const MessageType = {
  Error: 0,
  Login: 2,
  LoginAck: 3,
  NewUserLogin: 6,
  NickCheck: 7,
  NickNotRegistered: 8,
  NickAlreadyRegistered: 9,
  NickInvalid: 10,
  ShareFile: 100,
  RemoveFile: 102,
  Search: 200,
  SearchResult: 201,
  SearchEnd: 202,
  DownloadRequest: 203,
  DownloadAck: 204,
  PrivateMessage: 205,
  DownloadError: 206,
  ServerStats: 214,
  GeneralError: 404,
  AltDownloadRequest: 500,
  AltDownloadAck: 501,
  PingUser: 751,
  PongUser: 752,
} as const;

export type MessageTypeName = keyof typeof MessageType;

const NAMES = new Map<number, MessageTypeName>(
  (Object.entries(MessageType) as [MessageTypeName, number][]).map(([k, v]) => [v, k]),
);

/** Name of a known type, or `type_<n>` for others (for logs and counters). */
export function messageTypeName(type: number): string {
  return NAMES.get(type) ?? `type_${type}`;
}

/** Types a client sends to a server (used by the probe to judge a plausible sequence). */
export const CLIENT_TYPES: ReadonlySet<number> = new Set([
  MessageType.Login, MessageType.NewUserLogin, MessageType.NickCheck, MessageType.ShareFile,
  MessageType.RemoveFile, MessageType.Search, MessageType.DownloadRequest, MessageType.PrivateMessage,
  MessageType.ServerStats, MessageType.AltDownloadRequest, MessageType.PingUser, MessageType.PongUser, 4, 14,
  207, 208, 211, 215, 218, 219, 220, 221, 300, 303, 400, 401, 402,
]);

/** Types a server sends to a client. */
export const SERVER_TYPES: ReadonlySet<number> = new Set([
  MessageType.Error, MessageType.LoginAck, MessageType.NickNotRegistered, MessageType.NickAlreadyRegistered,
  MessageType.NickInvalid, MessageType.SearchResult, MessageType.SearchEnd, MessageType.DownloadAck,
  MessageType.PrivateMessage, MessageType.DownloadError, MessageType.ServerStats, MessageType.GeneralError,
  MessageType.AltDownloadAck, MessageType.PingUser, MessageType.PongUser, 209, 210, 212, 213, 216, 217, 301,
  302, 403, 405, 406, 407, 408, 409, 410, 621,
]);
