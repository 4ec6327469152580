// The diagnostics page's script: plain JS, no dependencies. It subscribes to /diagnostics/events
// (server-sent `snapshot` events, see examples/demo/diagnostics.ts), keeps the last WINDOW
// snapshots, and draws four SVG line charts. State is left on window.weirDashboard for tests.
/* global window, document, EventSource */
'use strict'
;(() => {
  const WINDOW = 120
  const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563', '#65a30d', '#9333ea', '#ea580c', '#0d9488', '#be123c']
  const SVG = 'http://www.w3.org/2000/svg'
  const state = { snapshots: [], received: 0, connected: false }
  window.weirDashboard = state
  const $ = (id) => document.getElementById(id)

  /** Draws series ({ name, color, values }) into an SVG with a 500×160 viewBox. */
  function draw(svg, legend, series) {
    const max = Math.max(1, ...series.flatMap((s) => s.values))
    const n = Math.max(2, ...series.map((s) => s.values.length))
    const x = (i) => (i / (n - 1)) * 490 + 5
    const y = (v) => 150 - (v / max) * 140
    svg.replaceChildren()
    for (const f of [0, 0.5, 1]) {
      const line = document.createElementNS(SVG, 'line')
      line.setAttribute('x1', '0'); line.setAttribute('x2', '500')
      line.setAttribute('y1', String(y(max * f))); line.setAttribute('y2', String(y(max * f)))
      line.setAttribute('stroke', '#e5e7eb')
      svg.append(line)
      const label = document.createElementNS(SVG, 'text')
      label.setAttribute('x', '4'); label.setAttribute('y', String(y(max * f) - 2))
      label.setAttribute('font-size', '10'); label.setAttribute('fill', '#6b7280')
      label.textContent = String(Math.round(max * f * 10) / 10)
      svg.append(label)
    }
    for (const s of series) {
      const line = document.createElementNS(SVG, 'polyline')
      line.setAttribute('fill', 'none')
      line.setAttribute('stroke', s.color)
      line.setAttribute('stroke-width', '2')
      line.setAttribute('vector-effect', 'non-scaling-stroke')
      line.setAttribute('data-series', s.name)
      line.setAttribute('points', s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' '))
      svg.append(line)
    }
    legend.replaceChildren(...series.map((s) => {
      const span = document.createElement('span')
      const swatch = document.createElement('i')
      swatch.style.background = s.color
      span.append(swatch, `${s.name} ${s.values.at(-1) ?? 0}`)
      return span
    }))
  }

  const reasonColors = new Map()
  const colorOf = (reason) => {
    if (!reasonColors.has(reason)) reasonColors.set(reason, COLORS[reasonColors.size % COLORS.length])
    return reasonColors.get(reason)
  }
  const sum = (record) => Object.values(record).reduce((a, b) => a + b, 0)

  function render() {
    const snaps = state.snapshots
    const last = snaps.at(-1)
    if (last === undefined) return
    $('connections-open').textContent = String(last.app.connectionsOpen)
    $('requests').textContent = String(last.app.requests)
    $('sse-sessions').textContent = String(last.sseSessions)
    $('closes').textContent = String(sum(last.app.closesByReason))
    $('upstream-requests').textContent = String(last.upstream.requests)

    draw($('chart-connections'), $('legend-connections'), [
      { name: 'app', color: COLORS[0], values: snaps.map((s) => s.app.connectionsOpen) },
      { name: 'upstream', color: COLORS[2], values: snaps.map((s) => s.upstream.connectionsOpen) },
    ])
    const rate = (pick) => snaps.map((s, i) => {
      if (i === 0) return 0
      const dt = (s.at - snaps[i - 1].at) / 1000
      return dt > 0 ? Math.round(((pick(s) - pick(snaps[i - 1])) / dt) * 10) / 10 : 0
    })
    draw($('chart-requests'), $('legend-requests'), [
      { name: 'app', color: COLORS[0], values: rate((s) => s.app.requests) },
      { name: 'upstream', color: COLORS[2], values: rate((s) => s.upstream.requests) },
    ])
    const reasons = [...new Set(snaps.flatMap((s) => Object.keys(s.app.closesByReason)))].sort()
    draw($('chart-closes'), $('legend-closes'), reasons.map((reason) => ({
      name: reason,
      color: colorOf(reason),
      values: snaps.map((s, i) => (s.app.closesByReason[reason] ?? 0) - (i === 0 ? (s.app.closesByReason[reason] ?? 0) : (snaps[i - 1].app.closesByReason[reason] ?? 0))),
    })))
    draw($('chart-sessions'), $('legend-sessions'), [
      { name: 'feed sessions', color: COLORS[4], values: snaps.map((s) => s.sseSessions) },
      { name: 'diagnostics streams', color: COLORS[5], values: snaps.map((s) => s.dashboards) },
    ])
    $('events').replaceChildren(...[...last.events].reverse().map((e) => {
      const tr = document.createElement('tr')
      for (const text of [`${(e.at / 1000).toFixed(1)} s`, `#${e.connection}`, e.event, e.detail]) {
        const td = document.createElement('td')
        td.textContent = text
        tr.append(td)
      }
      return tr
    }))
  }

  const source = new EventSource('/diagnostics/events')
  source.addEventListener('open', () => {
    state.connected = true
    $('status').textContent = 'live'
    $('status').className = 'live'
  })
  source.addEventListener('error', () => {
    state.connected = false
    $('status').textContent = 'disconnected (retrying)'
    $('status').className = 'down'
  })
  source.addEventListener('snapshot', (e) => {
    const snap = JSON.parse(e.data)
    state.received++
    // a restarted server starts its clock again: start a new history
    if (state.snapshots.length > 0 && snap.at < state.snapshots.at(-1).at) state.snapshots.length = 0
    state.snapshots.push(snap)
    if (state.snapshots.length > WINDOW) state.snapshots.shift()
    render()
  })
})()
