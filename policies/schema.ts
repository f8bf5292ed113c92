/**
 * JSON Schema of the policy file (validated with ajv, allErrors, every object
 * closed with additionalProperties:false so typos surface), plus the string
 * formats it uses. Each format is backed by the parser that later converts the
 * value, so a value that passes here always converts, and a value that fails
 * gets that parser's precise reason.
 */
import { Ajv } from 'ajv';
import type { ErrorObject, SchemaObject, ValidateFunction } from 'ajv';
import { parseAddress, isLoopback } from './address.js';
import {
  MAX_CACHE_ENTRIES, MAX_CAPTURE_BUFFER_MB, MAX_DURATION_MS, MAX_INTERFACE_NAME_LENGTH, MAX_LIST_ITEMS,
  MAX_NAME_LENGTH, MAX_PATH_LENGTH, MAX_RULES, MAX_SIZE_BYTES, MAX_SNAPLEN, MAX_WATCH_ENTRIES,
  MIN_CAPTURE_BUFFER_MB, MIN_SNAPLEN,
} from './limits.js';
import { ACTION_TYPES, METRIC_NAMES, PROTOCOL_NAMES, RELEASE_MODES } from './types.js';
import { DURATION_EXPECTED, SIZE_EXPECTED, parseDuration, parseSize } from './units.js';
import type { PolicyIssueCode } from './errors.js';

/** A string format: returns undefined when valid, else the reason. */
type FormatCheck = (value: string) => string | undefined;

const reasonOf = (r: { kind: 'ok' } | { kind: 'error'; reason: string }): string | undefined =>
  r.kind === 'error' ? r.reason : undefined;

/** Format name → check, the words for what it expects (for wrong-type messages), and the issue code. */
export const FORMATS: Readonly<Record<string, { check: FormatCheck; expected: string; code: PolicyIssueCode }>> = {
  duration: { check: (v) => reasonOf(parseDuration(v)), expected: DURATION_EXPECTED, code: 'bad_duration' },
  size: { check: (v) => reasonOf(parseSize(v)), expected: SIZE_EXPECTED, code: 'bad_size' },
  'watch-address': {
    check: (v) => reasonOf(parseAddress(v, { port: 'optional', prefix: true, portZero: false })),
    expected: 'an address "IP", "IP:PORT", "[IPv6]:PORT" or a network "IP/PREFIX"',
    code: 'bad_address',
  },
  cidr: {
    check: (v) => reasonOf(parseAddress(v, { port: 'forbidden', prefix: true, portZero: false })),
    expected: 'an address "IP" or a network "IP/PREFIX"',
    code: 'bad_address',
  },
  'listen-address': {
    check: (v) => reasonOf(parseAddress(v, { port: 'optional', prefix: false, portZero: true })),
    expected: 'a local address "IP:PORT" (port 0 = automatic)',
    code: 'bad_address',
  },
  endpoint: {
    check: (v) => reasonOf(parseAddress(v, { port: 'required', prefix: false, portZero: false })),
    expected: 'a server address "IP:PORT" or "[IPv6]:PORT"',
    code: 'bad_address',
  },
  'status-listen': { check: checkStatusListen, expected: 'a loopback "IP:PORT" or "unix:/path"', code: 'bad_address' },
  interface: { check: checkInterfaceName, expected: 'a Linux interface name', code: 'bad_interface' },
  'absolute-path': {
    check: (v) => (v.startsWith('/') && !v.includes('\0') ? undefined : `expected an absolute path, got ${JSON.stringify(v)}`),
    expected: 'an absolute path',
    code: 'bad_value',
  },
};

function checkStatusListen(v: string): string | undefined {
  if (v.startsWith('unix:')) {
    const path = v.slice('unix:'.length);
    return path.startsWith('/') ? undefined : `expected "unix:/absolute/path", got ${JSON.stringify(v)}`;
  }
  const r = parseAddress(v, { port: 'required', prefix: false, portZero: false });
  if (r.kind === 'error') return `expected a loopback "IP:PORT" or "unix:/path": ${r.reason}`;
  // Least privilege: the status endpoint is for the local operator only.
  if (!isLoopback(r.value)) return `expected a loopback address (127.0.0.0/8 or [::1]) or "unix:/path", got ${JSON.stringify(v)}`;
  return undefined;
}

function checkInterfaceName(v: string): string | undefined {
  // Linux dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
  if (v.length === 0 || Buffer.byteLength(v) > MAX_INTERFACE_NAME_LENGTH || v === '.' || v === '..' || /[/:\s]/.test(v)) {
    return `expected a Linux interface name (1-${MAX_INTERFACE_NAME_LENGTH} characters, no "/", ":" or spaces), got ${JSON.stringify(v)}`;
  }
  return undefined;
}

const closed = (properties: Record<string, SchemaObject>, required: string[] = []): SchemaObject => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required.length > 0 ? { required } : {}),
});
const list = (items: SchemaObject, maxItems = MAX_LIST_ITEMS): SchemaObject => ({ type: 'array', items, maxItems });
const str = (format: string, maxLength = MAX_PATH_LENGTH): SchemaObject => ({ type: 'string', format, maxLength });
const durationSchema: SchemaObject = { type: ['string', 'number'], format: 'duration', minimum: 0, maximum: MAX_DURATION_MS };
const sizeSchema: SchemaObject = { type: ['string', 'integer'], format: 'size', minimum: 0, maximum: MAX_SIZE_BYTES };
const port: SchemaObject = { type: 'integer', minimum: 1, maximum: 65535 };
const protocolName: SchemaObject = { type: 'string', enum: [...PROTOCOL_NAMES] };
const thresholds = closed({
  responseTimeMs: { type: 'number', exclusiveMinimum: 0, maximum: MAX_DURATION_MS },
  queryRate: { type: 'number', exclusiveMinimum: 0 },
});
const protocolSettings = closed({ enabled: { type: 'boolean' }, ports: list(port) });

export const POLICY_SCHEMA: SchemaObject = closed({
  interfaces: { ...list(str('interface', 64)), minItems: 1 },
  capture: closed({
    snaplen: { type: 'integer', minimum: MIN_SNAPLEN, maximum: MAX_SNAPLEN },
    bufferMB: { type: 'integer', minimum: MIN_CAPTURE_BUFFER_MB, maximum: MAX_CAPTURE_BUFFER_MB },
  }),
  watch: list(closed({ address: str('watch-address', 64), port, protocol: protocolName }, ['address', 'protocol']), MAX_WATCH_ENTRIES),
  learn: { type: 'boolean' },
  protocols: closed({ opennap: protocolSettings, dht: protocolSettings, grid: protocolSettings }),
  metrics: closed({
    window: durationSchema,
    queriesPerSample: { type: 'integer', minimum: 2, maximum: 100_000 },
    tick: durationSchema,
  }),
  rules: list(
    closed(
      {
        name: {
          type: 'string',
          pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
          maxLength: MAX_NAME_LENGTH,
          // Names end up in iptables comments and log lines, so they stay plain.
          description: 'a rule name of letters, digits, "_", "." and "-", starting with a letter or digit',
        },
        servers: closed({ addresses: list(str('cidr', 64)), ports: list(port), protocols: list(protocolName) }),
        metric: { type: 'string', enum: [...METRIC_NAMES] },
        high: thresholds,
        low: thresholds,
        holdBeforeAct: durationSchema,
        holdBeforeRelease: durationSchema,
        cooldown: durationSchema,
        clients: closed({
          interfaces: list(str('interface', 64)),
          addresses: list(str('cidr', 64)),
          except: list(str('cidr', 64)),
        }),
        action: closed({
          type: { type: 'string', enum: [...ACTION_TYPES] },
          listen: str('listen-address', 64),
          backends: list(str('endpoint', 64)),
          cacheTtl: durationSchema,
          cacheEntries: { type: 'integer', minimum: 1, maximum: MAX_CACHE_ENTRIES },
          cacheBytes: sizeSchema,
          onRelease: { type: 'string', enum: [...RELEASE_MODES] },
          upstreamTimeout: durationSchema,
        }),
      },
      ['name', 'metric', 'high', 'low'],
    ),
    MAX_RULES,
  ),
  dryRun: { type: 'boolean' },
  status: closed({ listen: str('status-listen') }),
  database: closed({ path: str('absolute-path'), retention: durationSchema, writer: { enum: ['thread', 'inline'] } }),
});

function compile(): ValidateFunction {
  // verbose: errors carry the failing data and parent schema, so messages can say "got X" and list allowed fields.
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictNumbers: true, allowUnionTypes: true });
  for (const [name, f] of Object.entries(FORMATS)) {
    ajv.addFormat(name, { type: 'string', validate: (v: string) => f.check(v) === undefined });
  }
  return ajv.compile(POLICY_SCHEMA);
}

const validator = compile();

/** Validates plain data against the schema; returns ajv's errors (empty when valid). */
export function validatePolicyData(data: unknown): ErrorObject[] {
  return validator(data) ? [] : [...(validator.errors ?? [])];
}
