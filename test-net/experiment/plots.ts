/**
 * Fig. 5–7 of the paper (seed 001 §5.3) from our run, as vega-lite specs
 * (pure: data in, spec out) rendered to SVG by vega's headless view and to
 * PNG by resvg. Every figure marks the router's activation and takeover
 * with rule lines, as the paper's text places them (160 s, 170 s).
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import type { AnalysisInput, ExperimentResults } from './analyse.js';
import { cleanCounter, proxyCounter, rateSeries } from './series.js';
import type { RatePoint } from './series.js';

/** Fig. 5's bin (the brief: 1 s bins). */
export const RATE_BIN_MS = 1000;
/** Plot size in px: readable at a glance, small files. */
export const PLOT_WIDTH = 640;
export const PLOT_HEIGHT = 280;
/** The font installed by .ci/setup (fonts-dejavu-core); resvg finds it among the system fonts. */
export const PLOT_FONT = 'DejaVu Sans';

export interface Marker {
  /** Seconds since the peers started. */
  t: number;
  label: string;
}

export interface SearchPoint {
  t: number;
  results: number;
  responseMs: number;
}

export interface PlotData {
  timeCompression: number;
  originRate: RatePoint[];
  proxyRate: RatePoint[];
  netBSearches: SearchPoint[];
  markers: Marker[];
}

/** Label of the rule line at the takeover: the tests look for it in the SVG (the rule group's class is `activation_marks`). */
export const TAKEOVER_LABEL = 'takeover (DNAT)';
export const ACTIVE_LABEL = 'router active';

export function plotData(input: AnalysisInput, results: ExperimentResults): PlotData {
  const t0 = input.runStartedAt;
  const end = input.runEndedAt;
  const markers: Marker[] = [];
  if (results.events.activeAtS !== null) markers.push({ t: results.events.activeAtS, label: ACTIVE_LABEL });
  const takeover = results.events.rulesAppliedAtS ?? results.events.serviceStartedAtS;
  if (takeover !== null) markers.push({ t: takeover, label: TAKEOVER_LABEL });
  const netBSearches: SearchPoint[] = input.peers
    .filter((p) => p.group === 'B')
    .flatMap((p) => p.records)
    .filter((r) => r.endedBy === 'end' && r.firstResultAt !== null)
    .map((r) => ({ t: (r.sentAt - t0) / 1000, results: r.results, responseMs: (r.firstResultAt ?? r.sentAt) - r.sentAt }))
    .sort((a, b) => a.t - b.t);
  return {
    timeCompression: input.timeCompression,
    originRate: rateSeries(cleanCounter(input.originSearches), t0, end, RATE_BIN_MS),
    proxyRate: rateSeries(proxyCounter(input.proxySearches, results.events.serviceStartedAtS === null ? null : t0 + results.events.serviceStartedAtS * 1000), t0, end, RATE_BIN_MS),
    netBSearches,
    markers,
  };
}

function markerLayers(markers: readonly Marker[]): NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']> {
  if (markers.length === 0) return [];
  const values = markers.map((m, i) => ({ ...m, row: i }));
  return [
    { name: 'activation', data: { values }, mark: { type: 'rule', color: '#c0392b', strokeDash: [6, 3], strokeWidth: 1.5 }, encoding: { x: { field: 't', type: 'quantitative' } } },
    {
      data: { values },
      mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, dy: 4, color: '#c0392b', fontSize: 11 },
      encoding: { x: { field: 't', type: 'quantitative' }, y: { value: 0 }, yOffset: { field: 'row', type: 'quantitative', scale: { range: [0, 28] } }, text: { field: 'label' } },
    },
  ];
}

function base(title: string, subtitle: string, layer: NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']>): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle },
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    background: 'white',
    config: { font: PLOT_FONT, view: { stroke: '#999' } },
    layer,
  } as TopLevelSpec;
}

function scaleNote(d: PlotData): string {
  return `time compressed ×${d.timeCompression} (each peer searches every ${2 / d.timeCompression} s instead of 2 s)`;
}

const xAxis = { field: 't', type: 'quantitative', title: 'time since the peers started (s)' } as const;

export function fig5Spec(d: PlotData): TopLevelSpec {
  const values = [...d.originRate.map((p) => ({ ...p, where: 'origin OpenNap server' })), ...d.proxyRate.map((p) => ({ ...p, where: 'virtual cache proxy' }))];
  return base('Fig. 5: query rate at the origin server and at the cache proxy', scaleNote(d), [
    {
      data: { values },
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: {
        x: xAxis,
        y: { field: 'rate', type: 'quantitative', title: `searches per second (${RATE_BIN_MS / 1000} s bins)` },
        color: { field: 'where', type: 'nominal', title: null, legend: { orient: 'top-right', labelLimit: 300 } },
      },
    },
    ...markerLayers(d.markers),
  ]);
}

export function fig6Spec(d: PlotData): TopLevelSpec {
  return base('Fig. 6: files per search response on network B', scaleNote(d), [
    {
      data: { values: d.netBSearches },
      mark: { type: 'point', size: 10, opacity: 0.35, filled: true },
      encoding: { x: xAxis, y: { field: 'results', type: 'quantitative', title: 'results in the response' } },
    },
    {
      data: { values: d.netBSearches },
      transform: [{ calculate: 'floor(datum.t)', as: 'bin' }, { aggregate: [{ op: 'mean', field: 'results', as: 'mean' }], groupby: ['bin'] }],
      mark: { type: 'line', color: '#1f4e79' },
      encoding: { x: { field: 'bin', type: 'quantitative' }, y: { field: 'mean', type: 'quantitative' } },
    },
    ...markerLayers(d.markers),
  ]);
}

export function fig7Spec(d: PlotData): TopLevelSpec {
  return base('Fig. 7: response time on network B', scaleNote(d), [
    {
      data: { values: d.netBSearches },
      mark: { type: 'point', size: 10, opacity: 0.35, filled: true },
      encoding: { x: xAxis, y: { field: 'responseMs', type: 'quantitative', title: 'first response − query (ms)', scale: { type: 'symlog' } } },
    },
    {
      data: { values: d.netBSearches },
      transform: [{ calculate: 'floor(datum.t)', as: 'bin' }, { aggregate: [{ op: 'median', field: 'responseMs', as: 'p50' }], groupby: ['bin'] }],
      mark: { type: 'line', color: '#1f4e79' },
      encoding: { x: { field: 'bin', type: 'quantitative' }, y: { field: 'p50', type: 'quantitative' } },
    },
    ...markerLayers(d.markers),
  ]);
}

/** Vega's headless renderer: no canvas, no DOM, no network (all data is inline). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function renderPng(svg: string): Buffer {
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: PLOT_FONT }, background: 'white' }).render().asPng();
}

export interface RenderedFigure {
  /** File name without extension, e.g. `fig5-query-rate`. */
  name: string;
  svg: string;
  png: Buffer;
}

export async function renderFigures(d: PlotData): Promise<RenderedFigure[]> {
  const specs: [string, TopLevelSpec][] = [
    ['fig5-query-rate', fig5Spec(d)],
    ['fig6-results-per-response', fig6Spec(d)],
    ['fig7-response-time', fig7Spec(d)],
  ];
  const out: RenderedFigure[] = [];
  for (const [name, spec] of specs) {
    const svg = await renderSvg(spec);
    out.push({ name, svg, png: renderPng(svg) });
  }
  return out;
}
