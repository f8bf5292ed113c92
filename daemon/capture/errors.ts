/**
 * Operational errors of the capture module (live capture, BPF filters, pcap
 * files). Each has a stable `code` that callers and tests match on; messages
 * name the interface, file or filter concerned.
 */

export type CaptureErrorCode =
  | 'CAPTURE_NO_SUCH_INTERFACE'
  | 'CAPTURE_PERMISSION_DENIED'
  | 'CAPTURE_OPEN_FAILED'
  | 'CAPTURE_BAD_FILTER'
  | 'CAPTURE_BAD_CONFIG'
  | 'CAPTURE_ALREADY_STARTED'
  | 'CAPTURE_TOO_MANY_FAILED_OPENS'
  | 'CAPTURE_FFI_UNAVAILABLE'
  | 'PCAP_FILE_IO'
  | 'PCAP_BAD_MAGIC'
  | 'PCAP_WRITER_CLOSED';

export class CaptureError extends Error {
  readonly code: CaptureErrorCode;
  constructor(code: CaptureErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CaptureError';
    this.code = code;
  }
}

/** The interface named in the config does not exist in this network namespace. */
export class NoSuchInterfaceError extends CaptureError {
  readonly iface: string;
  constructor(iface: string, detail?: string) {
    super('CAPTURE_NO_SUCH_INTERFACE', `capture: no such interface "${iface}"${detail ? ` (${detail})` : ''}`);
    this.name = 'NoSuchInterfaceError';
    this.iface = iface;
  }
}

/** Capturing needs CAP_NET_RAW (and CAP_NET_ADMIN for promiscuous mode). */
export class CapturePermissionError extends CaptureError {
  readonly iface: string;
  constructor(iface: string, detail: string) {
    super(
      'CAPTURE_PERMISSION_DENIED',
      `capture: not permitted to capture on "${iface}" (${detail}); the daemon needs CAP_NET_RAW and CAP_NET_ADMIN`,
    );
    this.name = 'CapturePermissionError';
    this.iface = iface;
  }
}

/** libpcap refused the open for another reason; `detail` is libpcap's own message. */
export class CaptureOpenError extends CaptureError {
  readonly iface: string;
  constructor(iface: string, detail: string, cause?: unknown) {
    super('CAPTURE_OPEN_FAILED', `capture: cannot open "${iface}": ${detail}`, { cause });
    this.name = 'CaptureOpenError';
    this.iface = iface;
  }
}

/** A BPF filter expression that libpcap cannot compile. */
export class BpfFilterError extends CaptureError {
  readonly filter: string;
  constructor(filter: string, detail: string) {
    super('CAPTURE_BAD_FILTER', `capture: bad BPF filter "${filter}": ${detail}`);
    this.name = 'BpfFilterError';
    this.filter = filter;
  }
}

/** Invalid capture settings (snap length, buffer size, an address or port in a filter spec). */
export class CaptureConfigError extends CaptureError {
  constructor(message: string) {
    super('CAPTURE_BAD_CONFIG', `capture: ${message}`);
    this.name = 'CaptureConfigError';
  }
}

/** A pcap file could not be opened, read or written. */
export class PcapFileError extends CaptureError {
  readonly path: string;
  constructor(path: string, detail: string, cause?: unknown) {
    super('PCAP_FILE_IO', `pcap: ${path}: ${detail}`, { cause });
    this.name = 'PcapFileError';
    this.path = path;
  }
}

/** The file starts with neither a classic pcap magic nor a pcapng section header. */
export class PcapFormatError extends CaptureError {
  readonly path: string;
  constructor(path: string, detail: string) {
    super('PCAP_BAD_MAGIC', `pcap: ${path}: not a pcap or pcapng file (${detail})`);
    this.name = 'PcapFormatError';
    this.path = path;
  }
}
