// Charts for case reports and SITREPs, drawn in-process to PNG: Chart.js on @napi-rs/canvas (Skia,
// prebuilt per platform, no system cairo or fonts needed). Text uses Noto Sans from an npm package,
// registered under our own family name, so a machine without fonts draws the same labels.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import type { ChartConfiguration, ChartItem, ChartType, Plugin } from 'chart.js' with { 'resolution-mode': 'import' };

export interface ChartSeries {
  label: string;
  /** One per category or label; NaN and the infinities leave a gap. */
  values: number[];
}

export interface BarChartSpec {
  title: string;
  categories: string[];
  series: ChartSeries[];
  stacked?: boolean;
  yLabel?: string;
  width?: number;
  height?: number;
}

export interface LineChartSpec {
  title: string;
  /** The x axis, in order (days, hours): shown as given, no date parsing. */
  labels: string[];
  series: ChartSeries[];
  yLabel?: string;
  width?: number;
  height?: number;
}

/**
 * Okabe–Ito, ordered for contrast on white (its yellow last but one: it is faint on white).
 * Series past the eighth reuse the colours; line charts then change the dash and point shape too.
 */
export const CHART_PALETTE: readonly string[] = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#56B4E9', '#CC79A7', '#F0E442', '#000000'];

const POINT_STYLES = ['circle', 'rect', 'triangle', 'rectRot', 'crossRot', 'star', 'rectRounded', 'cross'] as const;
const FONT_FAMILY = 'Duty Desk Sans';
const BACKGROUND = '#ffffff';
const TEXT = '#222222';
const GRID = '#e3e3e3';
const DEFAULT_WIDTH = 800;
const DEFAULT_HEIGHT = 400;
const MIN_SIDE = 100;
const MAX_SIDE = 4000;

let fontsLoaded = false;

/**
 * Registers every Noto Sans subset (Latin, Latin Extended, Greek, Cyrillic, Vietnamese, Devanagari)
 * in regular and bold under one family name: Skia then takes each character from the subset that has it.
 */
function loadFonts(): void {
  if (fontsLoaded) return;
  const dir = path.join(path.dirname(require.resolve('@fontsource/noto-sans/package.json')), 'files');
  const files = readdirSync(dir)
    .filter((f) => /^noto-sans-[a-z-]+-(400|700)-normal\.woff2$/.test(f))
    // Latin first: the subset Skia tries first for every character.
    .sort((a, b) => Number(!a.startsWith('noto-sans-latin-')) - Number(!b.startsWith('noto-sans-latin-')) || a.localeCompare(b));
  const loaded = files.filter((f) => GlobalFonts.registerFromPath(path.join(dir, f), FONT_FAMILY) !== null);
  if (!loaded.some((f) => f.startsWith('noto-sans-latin-400'))) {
    throw new Error(`chart: could not load the Noto Sans fonts from ${dir}; without them, chart text may be blank`);
  }
  fontsLoaded = true;
}

// Chart.js is an ES module: loaded on first use by dynamic import (a CommonJS build cannot require its
// types), which also keeps it out of the bot's start-up.
let chartJs: ReturnType<typeof loadChartJs> | undefined;

async function loadChartJs() {
  const m = await import('chart.js');
  m.Chart.register(...m.registerables);
  m.Chart.defaults.font.family = FONT_FAMILY;
  m.Chart.defaults.font.size = 12;
  m.Chart.defaults.color = TEXT;
  return m;
}

/** Paints the background white: PNGs are shown on Slack's and Teams' dark themes too. */
function whiteBackground<T extends ChartType>(): Plugin<T> {
  return {
    id: 'dutyDeskBackground',
    beforeDraw(chart) {
      const ctx = chart.ctx;
      ctx.save();
      ctx.globalCompositeOperation = 'destination-over';
      ctx.fillStyle = BACKGROUND;
      ctx.fillRect(0, 0, chart.width, chart.height);
      ctx.restore();
    },
  };
}

/** Says so in the plot area when there is nothing to plot, rather than showing empty axes. */
function noData<T extends ChartType>(): Plugin<T> {
  return {
    id: 'dutyDeskNoData',
    afterDraw(chart) {
      const empty = chart.data.datasets.every((d) => d.data.every((v) => v === null || v === undefined));
      if (!empty) return;
      const { left, right, top, bottom } = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = '#555555';
      ctx.font = `14px "${FONT_FAMILY}"`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText('No data', (left + right) / 2, (top + bottom) / 2);
      ctx.restore();
    },
  };
}

function side(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < MIN_SIDE || v > MAX_SIDE) throw new RangeError(`chart: ${name} must be a whole number of pixels from ${MIN_SIDE} to ${MAX_SIDE}, not ${v}`);
  return v;
}

function seriesData(series: ChartSeries[], axis: string[], axisName: string): (number | null)[][] {
  return series.map((s) => {
    if (s.values.length !== axis.length) {
      throw new RangeError(`chart: series "${s.label}" has ${s.values.length} values for ${axis.length} ${axisName}`);
    }
    return s.values.map((v) => (Number.isFinite(v) ? v : null));
  });
}

function colour(i: number): string {
  return CHART_PALETTE[i % CHART_PALETTE.length] ?? '#000000';
}

function titleLines(title: string): string | string[] {
  const lines = title.split(/\r?\n/);
  return lines.length === 1 ? title : lines;
}

/** Options both kinds share: fixed size, no animation or events, titles, legend and value axis. */
function baseOptions(spec: { title: string; yLabel?: string; series: ChartSeries[] }, data: (number | null)[][], stacked: boolean, pointLegend: boolean) {
  const integers = data.every((d) => d.every((v) => v === null || Number.isInteger(v)));
  return {
    responsive: false,
    animation: false as const,
    events: [],
    devicePixelRatio: 1,
    locale: 'en-GB',
    layout: { padding: { top: 8, right: 16, bottom: 8, left: 8 } },
    plugins: {
      title: { display: true, text: titleLines(spec.title), color: '#111111', font: { size: 16, weight: 'bold' as const }, padding: { top: 4, bottom: 10 } },
      legend: { display: spec.series.length > 1, position: 'top' as const, labels: { color: TEXT, boxWidth: 14, boxHeight: pointLegend ? 8 : 14, usePointStyle: pointLegend } },
      tooltip: { enabled: false },
    },
    scales: {
      x: { stacked, ticks: { color: TEXT }, grid: { display: false } },
      y: {
        stacked,
        beginAtZero: true,
        ticks: { color: TEXT, ...(integers ? { precision: 0 } : {}) },
        grid: { color: GRID },
        title: { display: Boolean(spec.yLabel), text: spec.yLabel ?? '', color: TEXT },
      },
    },
  };
}

async function render<T extends ChartType>(config: ChartConfiguration<T>, width: number, height: number, title: string): Promise<Buffer> {
  loadFonts();
  const { Chart } = await (chartJs ??= loadChartJs());
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.lang = 'en';
  // Chart.js's Node path ("basic platform") only calls getContext('2d') and reads width and height.
  const chart = new Chart(canvas as unknown as ChartItem, { ...config, plugins: [whiteBackground<T>(), noData<T>()] });
  try {
    return await canvas.encode('png', { title, software: 'Duty Desk' });
  } finally {
    chart.destroy();
  }
}

/** A bar chart as a PNG: one bar per series in each category, or one stacked bar per category. */
export async function renderBarChart(spec: BarChartSpec): Promise<Buffer> {
  const width = side(spec.width, DEFAULT_WIDTH, 'width');
  const height = side(spec.height, DEFAULT_HEIGHT, 'height');
  const stacked = spec.stacked ?? false;
  const data = seriesData(spec.series, spec.categories, 'categories');
  const config: ChartConfiguration<'bar', (number | null)[], string> = {
    type: 'bar',
    data: {
      labels: spec.categories,
      datasets: spec.series.map((s, i) => ({
        label: s.label,
        data: data[i] ?? [],
        backgroundColor: colour(i),
        borderColor: colour(i),
        borderWidth: 0,
        maxBarThickness: 64,
      })),
    },
    options: baseOptions(spec, data, stacked, false),
  };
  return render(config, width, height, spec.title);
}

/** A line chart as a PNG: values over time (people by status per day, cases per day). */
export async function renderLineChart(spec: LineChartSpec): Promise<Buffer> {
  const width = side(spec.width, DEFAULT_WIDTH, 'width');
  const height = side(spec.height, DEFAULT_HEIGHT, 'height');
  const data = seriesData(spec.series, spec.labels, 'labels');
  // Points help tell series apart (shape as well as colour) until there are too many to see.
  const pointRadius = spec.labels.length <= 60 ? 3 : 0;
  const config: ChartConfiguration<'line', (number | null)[], string> = {
    type: 'line',
    data: {
      labels: spec.labels,
      datasets: spec.series.map((s, i) => {
        const round = Math.floor(i / CHART_PALETTE.length);
        return {
          label: s.label,
          data: data[i] ?? [],
          borderColor: colour(i),
          backgroundColor: colour(i),
          borderWidth: 2,
          borderDash: round === 0 ? [] : round === 1 ? [8, 4] : [2, 3],
          pointStyle: POINT_STYLES[i % POINT_STYLES.length] ?? 'circle',
          pointRadius,
          tension: 0,
          fill: false,
          spanGaps: false,
        };
      }),
    },
    options: baseOptions(spec, data, false, true),
  };
  return render(config, width, height, spec.title);
}
