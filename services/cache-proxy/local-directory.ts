/**
 * The proxy's local directory (seed 001 §5.1, Fig. 3 "local directory
 * database"): the users logged in through this proxy, their link types and
 * the files they share, searched through the directory server's inverted
 * index (opennap/file-index.ts). Each file keeps its 201 frame encoded once,
 * naming the sharer's real address (the remote address of its socket) as
 * the origin would. Search rules follow search.c as the server does: never
 * the searcher's own files, nothing when both ends are firewalled, filters.
 *
 * Pure: no I/O, no clock. `generation` changes on every change, so answers
 * built from the directory can be memoised and invalidated cheaply.
 */
import { encodeFrame } from '../../opennap/codec.js';
import { FileIndex } from '../../opennap/file-index.js';
import { ipToNapster } from '../../opennap/ip-address.js';
import { MessageType } from '../../opennap/message-types.js';
import { buildSearchResult } from '../../opennap/messages.js';
import type { SharedFile } from '../../opennap/messages.js';
import { keywordsOf, matchesFilters } from '../../opennap/search-expression.js';
import type { SearchQuery } from '../../opennap/search-expression.js';
import { resultId } from './cached-result.js';
import { MAX_FILES_PER_USER, MAX_LOCAL_FILES } from './limits.js';

export interface LocalUser {
  /** The proxy session the user logged in on. */
  readonly session: number;
  readonly nick: string;
  /** Dotted IPv4 put in results; 0.0.0.0 for a non-IPv4 client (Napster carries IPv4 only). */
  readonly ip: string;
  /** Data port; 0 = firewalled. */
  readonly port: number;
  readonly linkType: number;
  readonly files: Map<string, LocalFile>;
}

export interface LocalFile {
  readonly owner: LocalUser;
  readonly shared: SharedFile;
  readonly keywords: readonly string[];
  /** `nick \0 filename`, as `resultId`. */
  readonly id: string;
  /** The complete 201 frame for this file. */
  readonly resultFrame: Buffer;
}

export interface LocalLogin {
  nick: string;
  ip: string;
  port: number;
  linkType: number;
}

/** Who is searching: their own files are never returned, and firewalled pairs are skipped. */
export interface Searcher {
  session: number;
  nick: string;
  port: number;
}

export type ShareOutcome = 'ok' | 'no_user' | 'duplicate' | 'user_limit' | 'directory_full';

export interface LocalDirectoryLimits {
  maxFilesPerUser: number;
  maxFiles: number;
}

export class LocalDirectory {
  private readonly users = new Map<number, LocalUser>();
  private readonly index = new FileIndex<LocalFile>();
  /** Bumped on every change; an answer built at an older generation is stale. */
  generation = 0;

  constructor(private readonly limits: LocalDirectoryLimits = { maxFilesPerUser: MAX_FILES_PER_USER, maxFiles: MAX_LOCAL_FILES }) {}

  /** Files indexed. */
  get size(): number {
    return this.index.size;
  }

  get userCount(): number {
    return this.users.size;
  }

  user(session: number): LocalUser | undefined {
    return this.users.get(session);
  }

  /** Registers the user of `session` (replacing a previous login of that session, files and all). */
  addUser(session: number, login: LocalLogin): LocalUser {
    this.removeUser(session);
    const ip = Number.isNaN(ipToNapster(login.ip)) ? '0.0.0.0' : login.ip;
    const user: LocalUser = { session, nick: login.nick, ip, port: login.port, linkType: login.linkType, files: new Map() };
    this.users.set(session, user);
    this.generation++;
    return user;
  }

  /** Drops the user of `session` and every file it shared (its connection closed or its login was refused). */
  removeUser(session: number): void {
    const user = this.users.get(session);
    if (user === undefined) return;
    for (const f of user.files.values()) this.index.remove(f);
    user.files.clear();
    this.users.delete(session);
    this.generation++;
  }

  share(session: number, shared: SharedFile): ShareOutcome {
    const user = this.users.get(session);
    if (user === undefined) return 'no_user';
    if (user.files.has(shared.filename)) return 'duplicate';
    if (user.files.size >= this.limits.maxFilesPerUser) return 'user_limit';
    if (this.index.size >= this.limits.maxFiles) return 'directory_full';
    const resultFrame = encodeFrame(
      MessageType.SearchResult,
      buildSearchResult({ ...shared, nick: user.nick, ip: user.ip, linkType: user.linkType }),
    );
    const file: LocalFile = {
      owner: user,
      shared,
      keywords: keywordsOf(shared.filename),
      id: resultId(user.nick, shared.filename),
      resultFrame,
    };
    user.files.set(shared.filename, file);
    this.index.add(file);
    this.generation++;
    return 'ok';
  }

  /** Removes a file the user shared; false when it was not shared. */
  unshare(session: number, filename: string): boolean {
    const file = this.users.get(session)?.files.get(filename);
    if (file === undefined) return false;
    file.owner.files.delete(filename);
    this.index.remove(file);
    this.generation++;
    return true;
  }

  /** Files matching `q` for `searcher`, at most `limit`, in the order they were shared. */
  search(q: SearchQuery, searcher: Searcher, limit: number): LocalFile[] {
    const firewalled = searcher.port === 0;
    return this.index.search(q.include, q.exclude, limit, (file) => {
      const owner = file.owner;
      if (owner.session === searcher.session || owner.nick === searcher.nick) return false;
      if (firewalled && owner.port === 0) return false;
      const s = file.shared;
      return matchesFilters(q, { bitrate: s.bitrate, freq: s.freq, size: s.size, duration: s.duration, linespeed: owner.linkType });
    });
  }
}
