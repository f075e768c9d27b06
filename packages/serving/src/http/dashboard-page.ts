/**
 * The live dashboard: one self-contained page (no CDN, no build step) that polls `/v1/stats` and
 * draws throughput, latency, cost over time and expert popularity with inline SVG. An API key can be
 * passed as `/dashboard#key=<token>`; it stays in sessionStorage and goes out as a bearer token.
 */
export const dashboardHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard</title>
<style>
  :root { --bg:#0f1419; --panel:#182029; --text:#e6e9ec; --dim:#8a96a3; --accent:#4fb3ff; --cost:#ffb454; --grid:#26313d; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; gap:16px; align-items:baseline; padding:12px 20px; border-bottom:1px solid var(--grid); flex-wrap:wrap; }
  header h1 { font-size:18px; margin:0; }
  header .meta { color:var(--dim); }
  #status { margin-left:auto; color:var(--dim); }
  #status.error { color:#ff6b6b; }
  main { padding:16px 20px; display:grid; gap:16px; grid-template-columns:repeat(auto-fit, minmax(420px, 1fr)); }
  .tiles { grid-column:1/-1; display:grid; gap:12px; grid-template-columns:repeat(auto-fit, minmax(150px, 1fr)); }
  .tile, section { background:var(--panel); border-radius:8px; padding:12px 14px; }
  .tile .label { color:var(--dim); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
  .tile .value { font-size:22px; font-variant-numeric:tabular-nums; margin-top:4px; }
  section h2 { font-size:14px; margin:0 0 8px; color:var(--dim); font-weight:600; }
  svg { width:100%; height:180px; display:block; }
  table { border-collapse:collapse; font-variant-numeric:tabular-nums; width:100%; }
  td, th { padding:3px 6px; text-align:right; font-size:12px; }
  th { color:var(--dim); font-weight:500; }
  #expert-heatmap td { color:#0b0f14; min-width:38px; }
  select { background:var(--bg); color:var(--text); border:1px solid var(--grid); border-radius:4px; }
  .wide { grid-column:1/-1; }
</style>
</head>
<body>
<header>
  <h1>Switchyard</h1>
  <span class="meta" id="model">…</span>
  <span class="meta" id="placement"></span>
  <span id="status">connecting…</span>
</header>
<main>
  <div class="tiles">
    <div class="tile"><div class="label">tokens / s</div><div class="value" id="tile-tps">–</div></div>
    <div class="tile"><div class="label">requests</div><div class="value" id="tile-requests">–</div></div>
    <div class="tile"><div class="label">completion tokens</div><div class="value" id="tile-tokens">–</div></div>
    <div class="tile"><div class="label">latency p50 / p99</div><div class="value" id="tile-latency">–</div></div>
    <div class="tile"><div class="label">active / queued</div><div class="value" id="tile-active">–</div></div>
    <div class="tile"><div class="label">billed GB-s</div><div class="value" id="tile-gbs">–</div></div>
    <div class="tile"><div class="label">cost so far</div><div class="value" id="tile-cost">–</div></div>
    <div class="tile"><div class="label">predictor hit@k</div><div class="value" id="tile-hit">–</div></div>
  </div>
  <section><h2>Throughput (tokens/s)</h2><svg id="chart-throughput" viewBox="0 0 600 180" preserveAspectRatio="none"></svg></section>
  <section><h2>Cost over time (USD, cumulative)</h2><svg id="chart-cost" viewBox="0 0 600 180" preserveAspectRatio="none"></svg></section>
  <section><h2>Expert popularity (share of each layer's routed tokens)</h2><table id="expert-heatmap"></table></section>
  <section><h2>Expert popularity over time — layer <select id="layer-select"></select></h2><svg id="expert-timeline" viewBox="0 0 600 180" preserveAspectRatio="none"></svg></section>
  <section class="wide"><h2>Deployment</h2><div id="deployment">…</div></section>
</main>
<script>
(() => {
  const hashKey = new URLSearchParams(location.hash.slice(1)).get('key');
  if (hashKey) { sessionStorage.setItem('switchyard-key', hashKey); history.replaceState(null, '', location.pathname); }
  const key = sessionStorage.getItem('switchyard-key');
  const $ = (id) => document.getElementById(id);
  const svgNs = 'http://www.w3.org/2000/svg';
  const fmt = (value, digits = 3) => value === null || value === undefined || Number.isNaN(value) ? '–'
    : Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en-US') : Number(value.toPrecision(digits)).toString();
  const el = (tag, attrs = {}, text) => {
    const node = document.createElementNS(tag === 'table' || tag === 'tr' || tag === 'td' || tag === 'th' ? 'http://www.w3.org/1999/xhtml' : svgNs, tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  };
  function lineChart(svg, series, color) {
    svg.replaceChildren();
    const width = 600, height = 180, pad = 4;
    const values = series.map((p) => p.value);
    const max = Math.max(1e-12, ...values);
    for (let i = 1; i < 4; i++) svg.append(el('line', { x1: 0, x2: width, y1: (height * i) / 4, y2: (height * i) / 4, stroke: '#26313d' }));
    if (series.length < 2) { svg.append(el('text', { x: 8, y: 20, fill: '#8a96a3', 'font-size': 12 }, 'collecting…')); return; }
    const t0 = series[0].time, t1 = series[series.length - 1].time || t0 + 1;
    const points = series.map((p) => [((p.time - t0) / Math.max(1, t1 - t0)) * width, height - pad - (p.value / max) * (height - 2 * pad)]);
    svg.append(el('polyline', { points: points.map((p) => p.join(',')).join(' '), fill: 'none', stroke: color, 'stroke-width': 2, 'vector-effect': 'non-scaling-stroke' }));
    svg.append(el('text', { x: 8, y: 16, fill: '#8a96a3', 'font-size': 12 }, 'max ' + fmt(max)));
  }
  function heat(share) {
    const t = Math.min(1, share * 2);
    return 'rgb(' + Math.round(40 + 215 * t) + ',' + Math.round(70 + 110 * t) + ',' + Math.round(110 - 60 * t) + ')';
  }
  function heatmap(experts) {
    const table = $('expert-heatmap');
    table.replaceChildren();
    const head = el('tr');
    head.append(el('th', {}, 'layer'));
    for (let e = 0; e < experts.numExperts; e++) head.append(el('th', {}, 'e' + e));
    table.append(head);
    experts.load.forEach((row, index) => {
      const total = row.reduce((a, b) => a + b, 0);
      const tr = el('tr');
      tr.append(el('th', {}, String(experts.moeLayers[index])));
      row.forEach((tokens, expert) => {
        const share = total > 0 ? tokens / total : 0;
        const td = el('td', { 'data-layer': experts.moeLayers[index], 'data-expert': expert, 'data-tokens': tokens, title: tokens + ' tokens' }, (share * 100).toFixed(1) + '%');
        td.style.background = heat(share);
        tr.append(td);
      });
      table.append(tr);
    });
  }
  function timeline(history, layerIndex, numExperts) {
    const svg = $('expert-timeline');
    svg.replaceChildren();
    const rows = history.filter((s) => s.expertTokens[layerIndex]).slice(-120);
    if (rows.length === 0) return;
    const cellWidth = 600 / rows.length, cellHeight = 180 / numExperts;
    rows.forEach((sample, column) => {
      const counts = sample.expertTokens[layerIndex];
      const total = counts.reduce((a, b) => a + b, 0);
      counts.forEach((count, expert) => {
        const share = total > 0 ? count / total : 0;
        svg.append(el('rect', { x: column * cellWidth, y: expert * cellHeight, width: cellWidth + 0.5, height: cellHeight + 0.5, fill: total > 0 ? heat(share) : '#182029' }));
      });
    });
  }
  function deployment(plan, placement) {
    const box = $('deployment');
    if (!plan) { box.textContent = 'Experts run ' + placement + '; no deployment plan is active.'; return; }
    const functions = plan.layers.reduce((n, layer) => n + layer.functions.reduce((m, f) => m + f.replicas, 0), 0);
    box.textContent = 'Plan (' + plan.strategy + ', ' + plan.createdAt + '): ' + plan.layers.length + ' MoE layers, ' + functions +
      ' functions; predicted $' + fmt(plan.predicted.costUsdPerBatch) + ' per batch of ' + plan.workload.tokensPerBatch +
      ' tokens, latency ' + fmt(plan.predicted.latencyMs) + ' ms (SLO ' + plan.workload.sloMs + ' ms, ' + (plan.predicted.sloMet ? 'met' : 'not met') + ').';
  }
  let selectedLayer = 0;
  $('layer-select').addEventListener('change', (event) => { selectedLayer = Number(event.target.value); });
  async function poll() {
    try {
      const response = await fetch('/v1/stats', { headers: key ? { authorization: 'Bearer ' + key } : {} });
      if (!response.ok) throw new Error((await response.json()).error?.message ?? response.statusText);
      const stats = await response.json();
      $('model').textContent = stats.model + ' · ' + stats.engine.batching + ' batching (max ' + stats.engine.maxBatchSize + ')';
      $('placement').textContent = 'experts: ' + stats.engine.expertPlacement;
      $('tile-tps').textContent = fmt(stats.current.tokensPerSecond);
      $('tile-requests').textContent = String(stats.totals.requests);
      $('tile-tokens').textContent = String(stats.totals.completionTokens);
      $('tile-latency').textContent = fmt(stats.current.latencyP50Seconds) + ' / ' + fmt(stats.current.latencyP99Seconds) + ' s';
      $('tile-active').textContent = stats.current.activeSequences + ' / ' + stats.current.queuedSequences;
      $('tile-gbs').textContent = fmt(stats.totals.billedGbSeconds);
      $('tile-cost').textContent = '$' + fmt(stats.totals.costUsd);
      $('tile-hit').textContent = stats.current.predictorHitRate === null ? 'n/a' : fmt(stats.current.predictorHitRate);
      lineChart($('chart-throughput'), stats.history.map((s) => ({ time: s.time, value: s.tokensPerSecond })), '#4fb3ff');
      lineChart($('chart-cost'), stats.history.map((s) => ({ time: s.time, value: s.costUsd })), '#ffb454');
      heatmap(stats.experts);
      const select = $('layer-select');
      if (select.options.length !== stats.experts.moeLayers.length) {
        select.replaceChildren(...stats.experts.moeLayers.map((layer, index) => { const o = document.createElement('option'); o.value = String(index); o.textContent = String(layer); return o; }));
      }
      timeline(stats.history, selectedLayer, stats.experts.numExperts);
      deployment(stats.deployment, stats.engine.expertPlacement);
      $('status').className = '';
      $('status').textContent = 'live · ' + new Date().toLocaleTimeString();
    } catch (error) {
      $('status').className = 'error';
      $('status').textContent = 'error: ' + error.message;
    }
    setTimeout(poll, 1000);
  }
  poll();
})();
</script>
</body>
</html>
`;
