// Charts of the drills and evaluation pages (ECharts, loaded from /static/vendor). Each starts from
// its page's <script type="application/json"> block; tooltips escape names through rx.axisTip.
window.renxingDrills = (function () {
  var font = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
  var colours = {ok: "#3f9a5c", behind: "#e0a030", lagging: "#d0473b", empty: "#a0a8b3"};

  function mount(id) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return null; }
    var chart = echarts.init(el, null, {renderer: "svg"});
    window.addEventListener("resize", function () { chart.resize(); });
    return chart;
  }

  // Reach per building as bars, coloured by standing, with the target as a line.
  function buildingChart(id, data, targetLabel) {
    var chart = mount(id);
    if (!chart) { return; }
    chart.setOption({
      textStyle: {fontFamily: font},
      grid: {left: 40, right: 16, top: 24, bottom: 70},
      tooltip: {trigger: "axis", formatter: rx.axisTip("%")},
      xAxis: {type: "category", data: data.names, axisLabel: {rotate: 45, fontSize: 10}},
      yAxis: {type: "value", max: 100, axisLabel: {formatter: "{value}%"}},
      series: [{
        type: "bar",
        data: data.reach.map(function (v, i) { return {value: v, itemStyle: {color: colours[data.standing[i]] || "#3b7dd8"}}; }),
        markLine: {symbol: "none", lineStyle: {color: "#1f2733", type: "dashed"},
                   label: {position: "insideEndTop", formatter: targetLabel + " " + data.target + "%"}, data: [{yAxis: data.target}]}
      }]
    });
  }

  // A scorecard: the distribution of 1–5 per dimension and the monthly trend of the mean.
  function scoreCharts(distId, trendId, card, names) {
    var dist = mount(distId);
    if (dist) {
      dist.setOption({
        textStyle: {fontFamily: font},
        legend: {top: 0},
        grid: {left: 36, right: 12, top: 30, bottom: 24},
        tooltip: {trigger: "axis", formatter: rx.axisTip()},
        xAxis: {type: "category", data: ["1", "2", "3", "4", "5"]},
        yAxis: {type: "value", minInterval: 1},
        series: Object.keys(names).map(function (k) {
          return {name: names[k], type: "bar", data: card.distribution[k]};
        })
      });
    }
    var trend = mount(trendId);
    if (trend) {
      trend.setOption({
        textStyle: {fontFamily: font},
        grid: {left: 36, right: 12, top: 16, bottom: 24},
        tooltip: {trigger: "axis", formatter: rx.axisTip()},
        xAxis: {type: "category", data: card.trend.map(function (t) { return t.month; })},
        yAxis: {type: "value", min: 1, max: 5},
        series: [{type: "line", data: card.trend.map(function (t) { return t.mean; })}]
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var b = rx.data("chart-buildings-data"), sc = rx.data("score-charts-data");
    if (b) { buildingChart("chart-buildings", b.chart, b.target); }
    if (sc) { scoreCharts("chart-dist", "chart-trend", sc.card, sc.names); }
  });

  return {buildingChart: buildingChart, scoreCharts: scoreCharts};
})();
