/* The volunteers page: service hours per month (months and hours from the chart node's data- attributes). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("hours-chart");
    if (!node || !window.echarts) { return; }
    var chart = echarts.init(node);
    chart.setOption({
      grid: {left: 40, right: 10, top: 20, bottom: 30},
      tooltip: {trigger: "axis", formatter: rx.axisTip()},
      xAxis: {type: "category", data: JSON.parse(node.getAttribute("data-months"))},
      yAxis: {type: "value", name: node.getAttribute("data-unit")},
      series: [{type: "bar", data: JSON.parse(node.getAttribute("data-hours")), itemStyle: {color: "#1d5fa8"}}]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
