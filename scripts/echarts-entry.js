// What Ironstar's ECharts build contains: scripts/build-echarts bundles this file into
// src/ironstar/web/static/vendor/echarts-<version>-ironstar/echarts.min.js as the global
// `echarts` (the same API as the full bundle's echarts/core: init, getInstanceByDom, ...).
//
// Only what the chart options from ironstar.analytics.charts and ironstar.js ask for:
//   series     line (line and area charts), bar (bar and histogram), scatter, pie, heatmap,
//              boxplot
//   components title, legend (plain and scroll), tooltip (with its axis pointer), grid
//              (cartesian axes: value, log, time, category), dataset, continuous visualMap
//              (heatmap), aria (ironstar.js turns it on for every chart)
//   renderer   canvas (ironstar.js asks for it; no SVG)
// The "dark" theme ironstar.js passes to init is registered by echarts/core itself.
// A chart option that needs anything else draws without it: add the import here and rebuild.
import { use } from "echarts/core";
import {
  BarChart,
  BoxplotChart,
  HeatmapChart,
  LineChart,
  PieChart,
  ScatterChart,
} from "echarts/charts";
import {
  AriaComponent,
  DatasetComponent,
  GridComponent,
  LegendComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapContinuousComponent,
} from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

use([
  BarChart,
  BoxplotChart,
  HeatmapChart,
  LineChart,
  PieChart,
  ScatterChart,
  AriaComponent,
  DatasetComponent,
  GridComponent,
  LegendComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapContinuousComponent,
  CanvasRenderer,
]);

export * from "echarts/core";
