/**
 * The directory server's records of users and their shared files, as the C
 * server's USER and DATUM (opennap.h). A file keeps its whole encoded 201
 * frame: every field of a search result is fixed once the file is shared (the
 * sharer's nick, address and link type do not change while it is online), so
 * a search only concatenates cached frames and builds no strings.
 */
import type { SharedFile } from './messages.js';
import type { ClientConnection } from './server-connection.js';

export interface ServerUser {
  readonly nick: string;
  /** Dotted IPv4 of the user's connection (login.c: `user->host = con->ip`). */
  readonly ip: string;
  /** Data port; 0 when firewalled. */
  readonly port: number;
  readonly linkType: number;
  readonly clientInfo: string;
  readonly email: string;
  readonly conn: ClientConnection;
  /** The user's files by file name (add_file.c refuses duplicates per user). */
  readonly files: Map<string, ServerFile>;
}

export interface ServerFile {
  readonly owner: ServerUser;
  readonly shared: SharedFile;
  /** Distinct lower-cased words of the file name (`keywordsOf`), the index keys. */
  readonly keywords: readonly string[];
  /** The complete 201 frame (header included) sent for this file in any search result. */
  readonly resultFrame: Buffer;
}
