import { GlobalFonts } from '@napi-rs/canvas';
import { PNG } from 'pngjs';
import { CHART_PALETTE, renderBarChart, renderLineChart } from '../../../src/handlers/report/chart';
import { textTable } from '../../../src/handlers/report/text-table';

type Rgb = [number, number, number];

const rgb = (hex: string): Rgb => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as Rgb;

function decode(buf: Buffer): PNG {
  expect(buf.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  return PNG.sync.read(buf);
}

function pixel(png: PNG, x: number, y: number): [number, number, number, number] {
  const i = (png.width * y + x) * 4;
  return [png.data[i] ?? 0, png.data[i + 1] ?? 0, png.data[i + 2] ?? 0, png.data[i + 3] ?? 0];
}

/** Pixels in rows [y0, y1) that pass the test. */
function count(png: PNG, test: (p: [number, number, number, number]) => boolean, y0 = 0, y1 = png.height): number {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = 0; x < png.width; x++) if (test(pixel(png, x, y))) n++;
  return n;
}

const near = (c: Rgb, tolerance = 24) => (p: [number, number, number, number]) => Math.abs(p[0] - c[0]) + Math.abs(p[1] - c[1]) + Math.abs(p[2] - c[2]) <= tolerance;
const dark = (p: [number, number, number, number]) => p[0] < 90 && p[1] < 90 && p[2] < 90;
const white = (p: [number, number, number, number]) => p[0] === 255 && p[1] === 255 && p[2] === 255 && p[3] === 255;

function expectWhiteOpaqueBackground(png: PNG): void {
  for (const [x, y] of [
    [0, 0],
    [png.width - 1, 0],
    [0, png.height - 1],
    [png.width - 1, png.height - 1],
  ] as const) {
    expect(pixel(png, x, y)).toEqual([255, 255, 255, 255]);
  }
  expect(count(png, (p) => p[3] !== 255)).toBe(0);
  // Mostly background: a chart, not a filled rectangle.
  expect(count(png, white)).toBeGreaterThan(png.width * png.height * 0.5);
}

const statusBars = {
  title: 'People by status — Côte d’Ivoire, Łódź, Київ',
  categories: ['Safe', 'Unaccounted', 'Needs help', 'Injured'],
  series: [
    { label: 'Abidjan', values: [120, 14, 6, 2] },
    { label: 'Bouaké', values: [40, 9, 3, 1] },
  ],
  yLabel: 'People',
};

test('bar chart: an 800×400 PNG on white, with bars in the palette colours and a title in dark text', async () => {
  const png = decode(await renderBarChart(statusBars));
  expect([png.width, png.height]).toEqual([800, 400]);
  expectWhiteOpaqueBackground(png);
  for (const colour of CHART_PALETTE.slice(0, 2)) expect(count(png, near(rgb(colour), 0))).toBeGreaterThan(500);
  expect(count(png, near(rgb(CHART_PALETTE[2] ?? '')))).toBe(0);
  // The title is drawn in the top band; category labels at the bottom; the y axis label on the left.
  expect(count(png, dark, 0, 35)).toBeGreaterThan(150);
  expect(count(png, dark, png.height - 30, png.height)).toBeGreaterThan(50);
  // Our font, not whatever the machine has, draws the text.
  expect(GlobalFonts.has('Duty Desk Sans')).toBe(true);
});

test('bar chart: stacked differs from grouped; size and colours per series; bad input is refused', async () => {
  const grouped = await renderBarChart(statusBars);
  const stacked = await renderBarChart({ ...statusBars, stacked: true });
  expect(stacked.equals(grouped)).toBe(false);
  // Same input, same pixels.
  expect((await renderBarChart(statusBars)).equals(grouped)).toBe(true);

  const three = decode(
    await renderBarChart({ title: 'Cases by consulate', categories: ['Paris', 'Lyon'], series: ['Open', 'Waiting', 'Closed'].map((label, i) => ({ label, values: [i + 3, i + 1] })), width: 640, height: 320 }),
  );
  expect([three.width, three.height]).toEqual([640, 320]);
  for (const colour of CHART_PALETTE.slice(0, 3)) expect(count(three, near(rgb(colour), 0))).toBeGreaterThan(200);

  await expect(renderBarChart({ ...statusBars, series: [{ label: 'Short', values: [1, 2] }] })).rejects.toThrow(/"Short" has 2 values for 4 categories/);
  await expect(renderBarChart({ ...statusBars, width: 10 })).rejects.toThrow(RangeError);
  await expect(renderBarChart({ ...statusBars, height: 400.5 })).rejects.toThrow(RangeError);
});

test('bar chart with nothing to plot says so', async () => {
  const png = decode(await renderBarChart({ title: 'Cases today', categories: [], series: [] }));
  expectWhiteOpaqueBackground(png);
  // "No data" in the middle of the plot area.
  expect(count(png, (p) => p[0] < 140 && p[1] < 140 && p[2] < 140, 150, 250)).toBeGreaterThan(30);
});

test('line chart: series colours and a title, a missing value, more series than colours', async () => {
  const labels = Array.from({ length: 14 }, (_, i) => `2026-11-${String(i + 9).padStart(2, '0')}`);
  const png = decode(
    await renderLineChart({
      title: 'Cases per day',
      labels,
      series: [
        { label: 'Opened', values: [3, 5, 2, 8, 13, 9, 4, 6, 2, 1, 0, 3, 4, 2] },
        { label: 'Closed', values: [1, 2, 2, 4, 6, 10, 8, 7, 5, 3, NaN, 2, 4, 3] },
      ],
      yLabel: 'Cases',
    }),
  );
  expect([png.width, png.height]).toEqual([800, 400]);
  expectWhiteOpaqueBackground(png);
  for (const colour of CHART_PALETTE.slice(0, 2)) expect(count(png, near(rgb(colour)))).toBeGreaterThan(200);
  expect(count(png, dark, 0, 35)).toBeGreaterThan(100);

  const many = await renderLineChart({ title: 'People by status', labels: ['Mon', 'Tue', 'Wed'], series: Array.from({ length: 10 }, (_, i) => ({ label: `Status ${i}`, values: [i, i + 1, i * 2] })) });
  expect(decode(many).width).toBe(800);
});

test('ten charts in a row render (reports draw several at once)', async () => {
  const days = Array.from({ length: 30 }, (_, i) => `D${i + 1}`);
  const charts = [];
  for (let i = 0; i < 10; i++) {
    charts.push(
      i % 2 === 0
        ? await renderBarChart({ ...statusBars, title: `Chart ${i}` })
        : await renderLineChart({ title: `Chart ${i}`, labels: days, series: [{ label: 'Cases', values: days.map((_, d) => (d * i) % 17) }] }),
    );
  }
  expect(charts.map((c) => decode(c).height)).toEqual(Array(10).fill(400));
});

test('text table: aligned columns, numbers to the right, one line per row', () => {
  const t = textTable(
    ['Status', 'Abidjan', 'Bouaké'],
    [
      ['Safe', 120, 40],
      ['Needs help', 6, 3],
      ['Unaccounted\nsince Monday', -14, 9.5],
    ],
  );
  expect(t.split('\n')).toEqual([
    'Status                    Abidjan  Bouaké',
    '------------------------  -------  ------',
    'Safe                          120      40',
    'Needs help                      6       3',
    'Unaccounted since Monday      -14     9.5',
  ]);
});

test('text table: short rows, wide characters, mixed columns, no rows', () => {
  expect(textTable(['Name', 'Note'], [['李小龙', 'x'], ['Zoë'], ['A', 7]]).split('\n')).toEqual([
    'Name    Note',
    '------  ----',
    '李小龙  x',
    'Zoë',
    'A          7',
  ]);
  expect(textTable(['Day', 'Cases'], [])).toBe('Day  Cases\n---  -----');
});
