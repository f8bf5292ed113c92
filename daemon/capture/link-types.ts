/**
 * Link-layer header types as numbered in pcap files (tcpdump.org
 * "LINK-LAYER HEADER TYPES", LINKTYPE_* values). Live capture reports the same
 * numbers, so frame decoders see one numbering for live and file input.
 */

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_IEEE802_11_RADIOTAP = 127;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

/**
 * Maps the link-type string npm `cap` returns from `open()` to a LINKTYPE_*
 * number. `cap` names five types and reports others as "Unknown linktype N"
 * with N the DLT_* value, which equals the LINKTYPE_* value except for the few
 * historic DLTs remapped below (pcap-common.c dlt_to_linktype).
 */
export function linkTypeFromCapName(name: string): number | undefined {
  switch (name) {
    case 'NULL':
      return LINKTYPE_NULL;
    case 'ETHERNET':
      return LINKTYPE_ETHERNET;
    case 'IEEE802_11_RADIO':
      return LINKTYPE_IEEE802_11_RADIOTAP;
    case 'LINKTYPE_LINUX_SLL':
      return LINKTYPE_LINUX_SLL;
    case 'RAW':
      return LINKTYPE_RAW;
    default: {
      const m = /^Unknown linktype (\d+)$/.exec(name);
      if (!m || m[1] === undefined) return undefined;
      const dlt = Number(m[1]);
      // DLT_RAW is 12 on Linux and 14 on OpenBSD; both are LINKTYPE_RAW in files.
      if (dlt === 12 || dlt === 14) return LINKTYPE_RAW;
      return dlt;
    }
  }
}
