/**
 * What the directory server does with each client message, type by type,
 * after the C server (login.c, add_file.c, remove_file.c, search.c,
 * download.c, privmsg.c, ping.c) and napster.txt §2. Errors go back as 0
 * during login and 404 after it; a malformed login or a message sent before
 * logging in closes that client (login.c sets `con->destroy`), a malformed
 * message after login is answered and the connection stays.
 */
import { encodeFrame, encodeFrames } from './codec.js';
import type { FileIndex } from './file-index.js';
import { ipToNapster } from './ip-address.js';
import { MessageType } from './message-types.js';
import {
  buildDownloadAck,
  buildFileRef,
  buildSearchResult,
  buildServerStats,
  dataText,
  parseFileRef,
  parseLogin,
  parsePrivateMessage,
  parseShareFile,
} from './messages.js';
import { keywordsOf } from './search-expression.js';
import type { ClientConnection } from './server-connection.js';
import type { ServerFile, ServerUser } from './server-model.js';
import { END_FRAME, encodeSearchError, findResults } from './server-search.js';
import type { QueryCache } from './server-search.js';
import type { ServerCounters } from './server-stats.js';
import { isValidNick } from './user-registry.js';
import type { UserRegistry } from './user-registry.js';

/**
 * Files one user may share. The C server's `Max_Shared` is configurable;
 * 10,000 is far above any real library of the time and bounds what one
 * client can add to the index.
 */
export const MAX_FILES_PER_USER = 10_000;

/** Highest link type of napster.txt type 2 (10 = T3 or greater); login.c refuses others. */
export const MAX_LINK_TYPE = 10;

/** Types a client may send before logging in without being closed: 4 (sent by napster v2.0b5a) and 14 (login options). */
const PRE_LOGIN_IGNORED: ReadonlySet<number> = new Set([4, 14]);

export interface ServerContext {
  readonly name: string;
  readonly registry: UserRegistry;
  readonly index: FileIndex<ServerFile>;
  readonly counters: ServerCounters;
  readonly queries: QueryCache;
  readonly maxUsers: number;
  readonly maxFiles: number;
  /** Sum of shared file sizes in bytes, for 214. */
  totalBytes: number;
}

/** 214 data: users, files, library size in whole gigabytes. */
export function statsText(ctx: ServerContext): string {
  return buildServerStats({
    users: ctx.registry.size,
    files: ctx.index.size,
    gigabytes: Math.floor(ctx.totalBytes / 2 ** 30),
  });
}

/** Dispatches one frame from `conn`. */
export function handleFrame(ctx: ServerContext, conn: ClientConnection, type: number, data: Buffer): void {
  const user = conn.user;
  if (user === undefined) {
    handleBeforeLogin(ctx, conn, type, data);
    return;
  }
  switch (type) {
    case MessageType.Search:
      handleSearch(ctx, conn, user, data);
      return;
    case MessageType.ShareFile:
      handleShare(ctx, conn, user, dataText(data));
      return;
    case MessageType.RemoveFile:
      handleUnshare(ctx, conn, user, dataText(data));
      return;
    case MessageType.DownloadRequest:
      handleDownload(ctx, conn, user, dataText(data));
      return;
    case MessageType.AltDownloadRequest:
      handlePush(ctx, conn, user, dataText(data));
      return;
    case MessageType.PrivateMessage:
      handlePrivateMessage(ctx, conn, user, dataText(data));
      return;
    case MessageType.ServerStats:
      conn.send(encodeFrame(MessageType.ServerStats, statsText(ctx)));
      return;
    case MessageType.PingUser:
    case MessageType.PongUser:
      handlePing(ctx, conn, user, type, dataText(data));
      return;
    case MessageType.Login:
    case MessageType.NewUserLogin:
      ctx.counters.count('opennap.already_logged_in');
      conn.sendError('you are already logged in');
      return;
    case MessageType.NickCheck:
      ctx.counters.count('opennap.already_logged_in');
      conn.sendError('You are already logged in.');
      return;
    default:
      // Channels, hotlists, browsing...: not served here; counted, and answered as the C server
      // answers a type it has no handler for (handler.c: 404 "Unknown command code N").
      ctx.counters.count('opennap.unknown_type');
      conn.sendError(`Unknown command code ${type}`);
  }
}

function handleBeforeLogin(ctx: ServerContext, conn: ClientConnection, type: number, data: Buffer): void {
  if (type === MessageType.Login || type === MessageType.NewUserLogin) {
    handleLogin(ctx, conn, type, dataText(data));
  } else if (type === MessageType.NickCheck) {
    const nick = dataText(data);
    const answer = !isValidNick(nick)
      ? MessageType.NickInvalid
      : ctx.registry.has(nick)
        ? MessageType.NickAlreadyRegistered
        : MessageType.NickNotRegistered;
    conn.send(encodeFrame(answer));
  } else if (PRE_LOGIN_IGNORED.has(type)) {
    ctx.counters.count('opennap.pre_login_ignored');
  } else {
    // Anything else before login is a client that does not speak the protocol (or garbage): close it.
    ctx.counters.count('opennap.not_logged_in');
    conn.rejectAndClose(`message type ${type} before login`);
  }
}

function handleLogin(ctx: ServerContext, conn: ClientConnection, type: number, text: string): void {
  const parsed = parseLogin(text);
  if (parsed.kind === 'error') {
    ctx.counters.count(parsed.code);
    conn.rejectAndClose(parsed.code === 'opennap.login_too_few_fields' ? 'Too few parameters for command' : parsed.message);
    return;
  }
  const login = parsed.value;
  if (type === MessageType.NewUserLogin && login.email === undefined) {
    ctx.counters.count('opennap.login_too_few_fields');
    conn.rejectAndClose('Too few parameters for command');
    return;
  }
  if (login.linkType > MAX_LINK_TYPE) {
    ctx.counters.count('opennap.login_bad_link_type');
    conn.rejectAndClose(`${login.linkType} is an invalid speed`);
    return;
  }
  if (!isValidNick(login.nick)) {
    // login.c answers an invalid nick with an empty 10 and closes.
    ctx.counters.count('opennap.login_invalid_nick');
    conn.sendAndClose(encodeFrame(MessageType.NickInvalid));
    return;
  }
  if (ctx.registry.has(login.nick)) {
    ctx.counters.count('opennap.nick_in_use');
    conn.rejectAndClose(`user ${login.nick} is already active`);
    return;
  }
  if (ctx.registry.size >= ctx.maxUsers) {
    ctx.counters.count('opennap.server_full');
    conn.rejectAndClose('server is full');
    return;
  }
  let ip = conn.ip;
  if (Number.isNaN(ipToNapster(ip))) {
    // Napster carries IPv4 only: an IPv6 client is served but advertised as 0.0.0.0.
    ctx.counters.count('opennap.non_ipv4_client');
    ip = '0.0.0.0';
  }
  const user: ServerUser = {
    nick: login.nick,
    ip,
    port: login.port,
    linkType: login.linkType,
    clientInfo: login.clientInfo,
    email: login.email ?? `anon@${ctx.name}`,
    conn,
    files: new Map(),
  };
  ctx.registry.add(user);
  conn.user = user;
  // login.c: the ack (3, the e-mail address) then the server stats (214).
  conn.send(
    encodeFrames([
      { type: MessageType.LoginAck, data: user.email },
      { type: MessageType.ServerStats, data: statsText(ctx) },
    ]),
  );
}

function handleSearch(ctx: ServerContext, conn: ClientConnection, user: ServerUser, data: Buffer): void {
  ctx.counters.searches++;
  const parsed = ctx.queries.parse(dataText(data));
  if (parsed.kind === 'error') {
    ctx.counters.count(parsed.code);
    conn.send(encodeSearchError(parsed.message));
    return;
  }
  const files = findResults(ctx.index, user, parsed.query);
  ctx.counters.resultsSent += files.length;
  // Each file's 201 is pre-encoded: queued as is, it is copied once, into the read's one write
  // (server-connection.ts), instead of into an answer buffer first and into the write after.
  for (const f of files) conn.send(f.resultFrame);
  conn.send(END_FRAME);
}

function handleShare(ctx: ServerContext, conn: ClientConnection, user: ServerUser, text: string): void {
  const parsed = parseShareFile(text);
  if (parsed.kind === 'error') {
    ctx.counters.count(parsed.code);
    conn.sendError('invalid parameter data to add a file');
    return;
  }
  const shared = parsed.value;
  if (user.files.has(shared.filename)) {
    ctx.counters.count('opennap.share_duplicate');
    conn.sendError('duplicate file');
    return;
  }
  if (user.files.size >= MAX_FILES_PER_USER) {
    ctx.counters.count('opennap.share_limit');
    conn.sendError(`You may only share ${MAX_FILES_PER_USER} files.`);
    return;
  }
  if (ctx.index.size >= ctx.maxFiles) {
    ctx.counters.count('opennap.index_full');
    conn.sendError('the server cannot index more files');
    return;
  }
  const resultFrame = encodeFrame(
    MessageType.SearchResult,
    buildSearchResult({ ...shared, nick: user.nick, ip: user.ip, linkType: user.linkType }),
  );
  const file: ServerFile = { owner: user, shared, keywords: keywordsOf(shared.filename), resultFrame };
  user.files.set(shared.filename, file);
  ctx.index.add(file);
  ctx.totalBytes += shared.size;
}

/** 102 data is the file name, quoted or not. */
function unquoted(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}

function handleUnshare(ctx: ServerContext, conn: ClientConnection, user: ServerUser, text: string): void {
  const file = user.files.get(unquoted(text));
  if (file === undefined) {
    ctx.counters.count('opennap.unshare_unknown');
    conn.sendError('you are not sharing that file');
    return;
  }
  removeFile(ctx, file);
}

function removeFile(ctx: ServerContext, file: ServerFile): void {
  file.owner.files.delete(file.shared.filename);
  ctx.index.remove(file);
  ctx.totalBytes -= file.shared.size;
}

/** Drops a user and its files: called when its connection closes (the C server's free_user). */
export function removeUser(ctx: ServerContext, user: ServerUser): void {
  for (const file of user.files.values()) {
    ctx.index.remove(file);
    ctx.totalBytes -= file.shared.size;
  }
  user.files.clear();
  ctx.registry.remove(user);
}

function lookupFile(ctx: ServerContext, nick: string, filename: string): ServerFile | undefined {
  return ctx.registry.get(nick)?.files.get(filename);
}

function handleDownload(ctx: ServerContext, conn: ClientConnection, _user: ServerUser, text: string): void {
  const parsed = parseFileRef(text);
  if (parsed.kind === 'error') {
    ctx.counters.count(parsed.code);
    conn.sendError('invalid download request');
    return;
  }
  const { nick, filename } = parsed.value;
  const file = lookupFile(ctx, nick, filename);
  if (file === undefined) {
    ctx.counters.count('opennap.download_unavailable');
    conn.send(encodeFrame(MessageType.DownloadError, buildFileRef({ nick, filename })));
    return;
  }
  const sharer = file.owner;
  // 204 names the sharer's own connection address and data port; port 0 tells the client to ask for a push (500).
  conn.send(
    encodeFrame(
      MessageType.DownloadAck,
      buildDownloadAck({ nick: sharer.nick, ip: sharer.ip, port: sharer.port, filename, md5: file.shared.md5, linkType: sharer.linkType }),
    ),
  );
}

function handlePush(ctx: ServerContext, conn: ClientConnection, user: ServerUser, text: string): void {
  const parsed = parseFileRef(text);
  if (parsed.kind === 'error') {
    ctx.counters.count(parsed.code);
    conn.sendError('invalid push request');
    return;
  }
  const { nick, filename } = parsed.value;
  const file = lookupFile(ctx, nick, filename);
  if (file === undefined || (file.owner.port === 0 && user.port === 0)) {
    // Unavailable, or both firewalled (download.c: no side could connect).
    ctx.counters.count(file === undefined ? 'opennap.download_unavailable' : 'opennap.push_both_firewalled');
    conn.send(encodeFrame(MessageType.DownloadError, buildFileRef({ nick, filename })));
    return;
  }
  // 501 goes to the sharer and names the requester, whose data port the sharer connects to.
  file.owner.conn.send(
    encodeFrame(
      MessageType.AltDownloadAck,
      buildDownloadAck({ nick: user.nick, ip: user.ip, port: user.port, filename, md5: file.shared.md5, linkType: user.linkType }),
    ),
  );
}

function handlePrivateMessage(ctx: ServerContext, conn: ClientConnection, user: ServerUser, text: string): void {
  const parsed = parsePrivateMessage(text);
  if (parsed.kind === 'error') {
    ctx.counters.count(parsed.code);
    return; // privmsg.c logs a malformed message and drops it
  }
  const target = ctx.registry.get(parsed.value.nick);
  if (target === undefined) {
    ctx.counters.count('opennap.no_such_user');
    conn.sendError(`User ${parsed.value.nick} is not currently online.`);
    return;
  }
  // The server rewrites the message with the sender's nick (napster.txt 205).
  target.conn.send(encodeFrame(MessageType.PrivateMessage, `${user.nick} ${parsed.value.text}`));
}

function handlePing(ctx: ServerContext, conn: ClientConnection, user: ServerUser, type: number, text: string): void {
  const nick = text.trim();
  const target = ctx.registry.get(nick);
  if (target === undefined) {
    ctx.counters.count('opennap.no_such_user');
    conn.sendError(`ping failed, ${nick} is not online`);
    return;
  }
  target.conn.send(encodeFrame(type, user.nick));
}
