import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, MarkLineComponent, SVGRenderer]);

/** A chart as the report describes it; ECharts draws it (server-side, to SVG, no DOM). */
export interface ChartSpec {
  /** Unique in the page: names the SVG's classes, so that two charts' styles never meet. */
  id: string;
  categories: string[];
  series: ChartSeries[];
  /** How the value axis reads. */
  axis: 'count' | 'percent';
  /** Horizontal lines across the chart (published limits), each a series of its own so marks stay countable. */
  thresholds?: { value: number; label: string }[];
}

export interface ChartSeries {
  name: string;
  kind: 'bar' | 'line';
  values: (number | null)[];
  /** Bars with the same stack sit on one another. */
  stack?: string;
  color: string;
}

/**
 * Colours that read on the light page and the dark one alike (each at least 3:1 against both
 * backgrounds, as WCAG asks of graphics); the text and the axes are `currentColor`, so they follow
 * the page's own colour in either scheme, with no second drawing.
 */
export const palette = {
  blue: '#3b82f6',
  amber: '#d97706',
  red: '#e5484d',
  green: '#12a150',
  violet: '#8b5cf6',
  teal: '#0e9f9a',
  grey: '#8a8f98',
} as const;

/** The widths the page switches between (see page.ts): a phone's column and a desktop's. */
export const WIDTHS = { narrow: 340, wide: 720 } as const;

/** The chart as SVG at one width, sized by its viewBox so that it scales down cleanly. */
export function renderChart(spec: ChartSpec, width: number, height = width < 500 ? 260 : 300): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption(option(spec, width));
    const svg = chart.renderToSVGString();
    // Each chart's classes and clip-path ids get a prefix of their own: ECharts numbers them by a
    // counter of the process, and its classes carry hover styles that would reach other charts.
    return svg
      .replace(/zr\d+-/g, `${spec.id}-${width}-`)
      .replace(/^<svg width="\d+" height="\d+"/, `<svg class="chart-svg" focusable="false"`);
  } finally {
    chart.dispose();
  }
}

function option(spec: ChartSpec, width: number): echarts.EChartsCoreOption {
  const narrow = width < 500;
  const percent = spec.axis === 'percent';
  const format = (value: number) => (percent ? `${Number((value * 100).toFixed(2))}%` : Number.isInteger(value) ? String(value) : value.toFixed(1));
  const text = { color: 'currentColor', fontFamily: 'system-ui, sans-serif', fontSize: narrow ? 11 : 12 };
  const thresholds = (spec.thresholds ?? []).map((threshold, i) => ({
    name: threshold.label,
    type: 'line' as const,
    // No points of its own (nulls draw nothing), but ECharts places a mark line only on a series with data.
    data: spec.categories.map(() => null),
    silent: true,
    color: palette.red,
    markLine: {
      silent: true,
      symbol: 'none',
      // Its default of 2 decimals would round 0.3% (0.003) to nothing.
      precision: 6,
      lineStyle: { color: palette.red, type: 'dashed' as const, width: 1.5 },
      label: { ...text, formatter: threshold.label, position: i % 2 ? ('insideEndTop' as const) : ('insideStartTop' as const) },
      data: [{ yAxis: threshold.value }],
    },
  }));
  return {
    animation: false,
    textStyle: text,
    color: spec.series.map((series) => series.color),
    legend: { top: 0, left: 0, textStyle: text, itemWidth: 14, itemHeight: 10, itemGap: 16, data: spec.series.map((series) => series.name) },
    grid: { left: 8, right: narrow ? 8 : 16, top: narrow ? 56 : 40, bottom: 8, outerBoundsMode: 'same', outerBoundsContain: 'all' },
    xAxis: {
      type: 'category',
      data: spec.categories,
      axisLabel: { ...text, hideOverlap: true, width: narrow ? 110 : 180, overflow: 'truncate' },
      axisLine: { lineStyle: { color: 'currentColor', opacity: 0.6 } },
      axisTick: { show: false },
    },
    yAxis: {
      type: 'value',
      minInterval: percent ? undefined : 1,
      max: thresholds.length ? (extent: { max: number }) => Math.max(extent.max, ...spec.thresholds!.map((threshold) => threshold.value * 1.25)) : undefined,
      axisLabel: { ...text, formatter: format },
      splitLine: { lineStyle: { color: 'currentColor', opacity: 0.15 } },
    },
    series: [
      ...spec.series.map((series) => ({
        name: series.name,
        type: series.kind,
        data: series.values,
        stack: series.stack,
        color: series.color,
        silent: true,
        emphasis: { disabled: true },
        ...(series.kind === 'line' ? { symbol: 'circle', symbolSize: narrow ? 5 : 6, showSymbol: true, showAllSymbol: true, lineStyle: { width: 2 }, connectNulls: false } : { barMaxWidth: 28 }),
      })),
      ...thresholds,
    ],
  };
}
