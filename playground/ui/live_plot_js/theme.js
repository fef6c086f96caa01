// Streamlit's theme for a Plotly figure: the placeholder colours of Streamlit's Plotly
// template swapped for the theme's, and the background and font the figure leaves unset.

// Streamlit sets plotly's default template to "streamlit", whose colors are placeholders
// "#000001".."#000040" that st.plotly_chart swaps for theme colors in the browser. We do
// the same from the components-v2 theme variables (--st-*), with plotly's colors where a
// variable is missing, and fill the background and font the figure leaves unset.
const PLOTLY_CATEGORICAL = "#636efa,#EF553B,#00cc96,#ab63fa,#FFA15A,#19d3f3,#FF6692,#B6E880,#FF97FF,#FECB52";

const PLOTLY_SEQUENTIAL = "#0d0887,#46039f,#7201a8,#9c179e,#bd3786,#d8576b,#ed7953,#fb9f3a,#fdca26,#f0f921";

// ColorBrewer RdBu, 11 steps: the theme has no diverging scale.
const DIVERGING = "#67001f,#b2182b,#d6604d,#f4a582,#fddbc7,#f7f7f7,#d1e5f0,#92c5de,#4393c3,#2166ac,#053061";

export function readTheme(el) {
  const css = getComputedStyle(el);
  const get = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const list = (name, fallback) => get(name, fallback).split(",").map((c) => c.trim());
  const theme = {
    categorical: list("--st-chart-categorical-colors", PLOTLY_CATEGORICAL),
    sequential: list("--st-chart-sequential-colors", PLOTLY_SEQUENTIAL),
    diverging: DIVERGING.split(","),
    green: get("--st-green-color", "#079464"),
    red: get("--st-red-color", "#D94A57"),
    blue: get("--st-blue-color", "#3B82F6"),
    gray: get("--st-gray-color", "#6B7280"),
    text: get("--st-text-color", "#31333F"),
    background: get("--st-background-color", "#FFFFFF"),
    secondary: get("--st-secondary-background-color", "#F0F2F6"),
    faint: get("--st-border-color-light", "rgba(49, 51, 63, 0.1)"),
    font: get("--st-font", "sans-serif"),
  };
  theme.signature = JSON.stringify(theme);
  return theme;
}

function placeholderColor(n, t) {
  if (n >= 1 && n <= 10) return t.categorical[(n - 1) % t.categorical.length];
  if (n >= 11 && n <= 20) return t.sequential[Math.min(n - 11, t.sequential.length - 1)];
  if (n >= 21 && n <= 31) return t.diverging[n - 21];
  const named = { 32: t.green, 33: t.red, 34: t.blue, 35: t.gray, 36: t.gray, 37: t.text };
  return named[n] ?? { 38: t.background, 39: t.faint, 40: t.secondary }[n];
}

export function themedFigure(json, t) {
  const fig = JSON.parse(
    json.replace(/"#0000(\d\d)"/g, (match, n) => {
      const color = placeholderColor(Number(n), t);
      return color ? JSON.stringify(color) : match;
    }),
  );
  fig.layout ??= {};
  const own = fig.layout;
  const template = own.template?.layout ?? {};
  own.paper_bgcolor ??= template.paper_bgcolor ?? t.background;
  own.plot_bgcolor ??= template.plot_bgcolor ?? t.background;
  own.font = {
    color: template.font?.color ?? t.text,
    family: template.font?.family ?? t.font,
    ...own.font,
  };
  return fig;
}
