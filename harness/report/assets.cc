#include "report/assets.h"

namespace ovl::report {

const char* const kReportStyle = R"css(
body { font: 14px/1.45 "DejaVu Sans", system-ui, sans-serif; margin: 0; color: #1d2125;
       background: #f5f6f8; }
main { max-width: 1340px; margin: 0 auto; padding: 12px 24px 48px; }
h1 { font-size: 22px; margin: 10px 0 6px; }
h2 { font-size: 18px; margin: 30px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #cfd5dc; }
h3 { font-size: 15px; margin: 18px 0 8px; }
table { border-collapse: collapse; background: #fff; margin: 4px 0 10px; }
th, td { border: 1px solid #cfd5dc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #eceff3; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.kv th { width: 150px; }
.kv td { font-family: "DejaVu Sans Mono", monospace; font-size: 13px; word-break: break-all; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; align-items: start; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 4px; font-weight: 600;
         font-size: 12px; margin: 1px 4px 1px 0; color: #1d2125; text-decoration: none;
         border: 1px solid rgba(0, 0, 0, 0.15); }
.v-PASS { background: #bfe3c0; }
.v-FAIL { background: #f28b82; }
.v-XFAIL { background: #ffd98a; }
.v-XPASS { background: #d7aefb; }
.v-UNSUPPORTED { background: #e6e9ec; color: #56606b; }
.v-UNRESOLVED { background: #9fb3c8; }
.v-other { background: #fff; }
.exit-0 { background: #bfe3c0; }
.exit-1 { background: #f28b82; }
.exit-2, .exit-3 { background: #9fb3c8; }
.matrix td { min-width: 96px; font-size: 12px; }
.matrix td.scenario { font-family: "DejaVu Sans Mono", monospace; background: #fff; }
.matrix th .variant { font-weight: normal; font-size: 11px; color: #56606b; }
.matrix th .control { font-weight: normal; font-size: 11px; color: #8a4b00; }
.matrix td .f { display: block; white-space: nowrap; color: #1d2125; text-decoration: none; }
.matrix td a.f { text-decoration: underline dotted; }
.matrix td .flaky { color: #a00; font-weight: 600; }
.legend { margin: 6px 0 10px; }
.alarm { background: #fde7e6; border: 1px solid #f28b82; padding: 8px 12px; margin: 8px 0; }
.ok { background: #e8f5e9; border: 1px solid #bfe3c0; padding: 8px 12px; margin: 8px 0; }
.note { color: #56606b; }
details { background: #fff; border: 1px solid #cfd5dc; margin: 6px 0; padding: 4px 10px; }
details > summary { cursor: pointer; }
details details { margin-left: 8px; }
.explanation { white-space: pre-wrap; font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
pre { white-space: pre-wrap; word-break: break-all; background: #f8f9fa; border: 1px solid #dde1e6;
      padding: 6px 8px; max-height: 300px; overflow: auto; font-size: 12px; }
.findings td { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; word-break: break-all;
             white-space: pre-wrap; }
.chart { position: relative; height: 300px; background: #fff; border: 1px solid #cfd5dc;
         padding: 8px; }
.chart.wide { height: 340px; }
footer { margin-top: 36px; color: #56606b; font-size: 12px; }
)css";

const char* const kReportScript = R"js(
(function () {
  'use strict';
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id ? document.getElementById(id) : null;
    for (; el; el = el.parentElement) {
      if (el.tagName === 'DETAILS') el.open = true;
    }
  }
  window.addEventListener('hashchange', openTarget);
  openTarget();

  var body = document.body;
  var specs = JSON.parse(document.getElementById('report-charts').textContent);
  body.setAttribute('data-charts-expected', String(specs.length));
  body.setAttribute('data-charts-drawn', '0');
  if (specs.length === 0) return;
  if (typeof Chart === 'undefined') {
    body.setAttribute('data-chart-error', 'Chart.js is not in the page');
    return;
  }
  Chart.defaults.animation = false;
  Chart.defaults.font.family = '"DejaVu Sans", sans-serif';
  Chart.defaults.maintainAspectRatio = false;

  var rendered = {};
  var markersOf = {};
  // Vertical lines at fault times, the recovery window shaded, with the fault's label.
  Chart.register({
    id: 'faultMarkers',
    afterDatasetsDraw: function (chart) {
      var list = markersOf[chart.canvas.id] || [];
      var xs = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      ctx.save();
      ctx.font = '11px "DejaVu Sans", sans-serif';
      list.forEach(function (m, i) {
        var x = xs.getPixelForValue(m.x);
        if (x < area.left || x > area.right) return;
        if (m.until !== undefined && m.until !== null) {
          var x2 = Math.min(xs.getPixelForValue(m.until), area.right);
          ctx.fillStyle = 'rgba(198, 40, 40, 0.12)';
          ctx.fillRect(x, area.top, Math.max(x2 - x, 1), area.bottom - area.top);
        }
        ctx.strokeStyle = '#c62828';
        ctx.lineWidth = 1.5;
        ctx.setLineDash([5, 4]);
        ctx.beginPath();
        ctx.moveTo(x, area.top);
        ctx.lineTo(x, area.bottom);
        ctx.stroke();
        ctx.fillStyle = '#b71c1c';
        ctx.fillText(m.label, x + 4, area.top + 12 + (i % 4) * 13);
      });
      ctx.restore();
    },
    afterRender: function (chart) { rendered[chart.canvas.id] = true; }
  });

  function config(s) {
    var common = {
      responsive: true,
      plugins: {
        title: { display: true, text: s.title, font: { size: 14, weight: 'bold' } },
        legend: { position: 'bottom' }
      },
      scales: {
        x: { title: { display: !!s.x_title, text: s.x_title || '' } },
        y: { beginAtZero: true, title: { display: !!s.y_title, text: s.y_title || '' } }
      }
    };
    if (s.type === 'line') {
      common.scales.x.type = 'linear';
      common.parsing = false;
      return {
        type: 'line',
        data: {
          datasets: s.datasets.map(function (d) {
            return {
              label: d.label, borderColor: d.color, backgroundColor: d.color,
              pointRadius: d.data.length > 60 ? 0 : 2, borderWidth: 2, tension: 0,
              data: d.data.map(function (p) { return { x: p[0], y: p[1] }; })
            };
          })
        },
        options: common
      };
    }
    return {
      type: 'bar',
      data: {
        labels: s.labels,
        datasets: s.datasets.map(function (d) {
          return { label: d.label, data: d.data, backgroundColor: d.color, borderColor: d.color };
        })
      },
      options: common
    };
  }

  specs.forEach(function (s) {
    var holder = document.getElementById(s.id);
    if (!holder) return;
    var canvas = document.createElement('canvas');
    canvas.id = s.id + '-canvas';
    holder.appendChild(canvas);
    markersOf[canvas.id] = s.markers || [];
    try {
      new Chart(canvas, config(s));
    } catch (e) {
      body.setAttribute('data-chart-error', String(e));
    }
  });

  function painted(canvas) {
    if (!canvas.width || !canvas.height) return false;
    var px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (var i = 3; i < px.length; i += 4) {
      if (px[i] !== 0) return true;
    }
    return false;
  }
  var drawn = 0;
  specs.forEach(function (s) {
    var canvas = document.getElementById(s.id + '-canvas');
    if (canvas && rendered[canvas.id] && painted(canvas)) drawn++;
  });
  body.setAttribute('data-charts-drawn', String(drawn));
})();
)js";

}  // namespace ovl::report
