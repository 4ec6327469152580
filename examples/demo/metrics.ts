/**
 * The demo's Prometheus endpoint (`GET /metrics`, prom-client): the same numbers as the
 * dashboard, read from the servers' counters and the session registries at scrape time.
 *
 * - `weir_http_connections_open{server}` (gauge), `weir_http_connections_accepted_total{server}`,
 *   `weir_http_requests_total{server}`, `weir_http_connection_closes_total{server,reason}`;
 * - `weir_sse_sessions_open{endpoint}` (gauge: `feed`, `diagnostics`);
 * - `weir_demo_topic_subscribers` (gauge: live subscriptions of the feed's topic).
 *
 * `server` is `app` (the demo) or `upstream` (the service behind its proxy route).
 */
import { Counter, Gauge, Registry } from 'prom-client'
import type { DiagnosticsSources } from './diagnostics.js'

export interface Metrics {
  readonly contentType: string
  /** The exposition text. */
  render(): Promise<string>
}

export function metrics(sources: DiagnosticsSources & { readonly topicSubscribers: () => number }): Metrics {
  const registry = new Registry()
  const servers = { app: sources.app, upstream: sources.upstream } as const
  const each = (f: (server: keyof typeof servers, c: ReturnType<DiagnosticsSources['app']>) => void): void => {
    for (const [server, read] of Object.entries(servers) as [keyof typeof servers, DiagnosticsSources['app']][]) f(server, read())
  }
  new Gauge({
    name: 'weir_http_connections_open',
    help: 'Connections the server holds open now.',
    labelNames: ['server'],
    registers: [registry],
    collect() {
      each((server, c) => this.set({ server }, c.connectionsOpen))
    },
  })
  new Counter({
    name: 'weir_http_connections_accepted_total',
    help: 'Connections the server accepted.',
    labelNames: ['server'],
    registers: [registry],
    collect() {
      this.reset()
      each((server, c) => this.inc({ server }, c.connectionsAccepted))
    },
  })
  new Counter({
    name: 'weir_http_requests_total',
    help: 'Requests the server received.',
    labelNames: ['server'],
    registers: [registry],
    collect() {
      this.reset()
      each((server, c) => this.inc({ server }, c.requests))
    },
  })
  new Counter({
    name: 'weir_http_connection_closes_total',
    help: 'Connections closed, by reason (client-fin, client-rst, idle-timeout, request-timeout, early-response, shutdown, …).',
    labelNames: ['server', 'reason'],
    registers: [registry],
    collect() {
      this.reset()
      each((server, c) => {
        for (const [reason, n] of Object.entries(c.closesByReason)) this.inc({ server, reason }, n)
      })
    },
  })
  new Gauge({
    name: 'weir_sse_sessions_open',
    help: 'Open SSE sessions, by endpoint.',
    labelNames: ['endpoint'],
    registers: [registry],
    collect() {
      this.set({ endpoint: 'feed' }, sources.sseSessions())
      this.set({ endpoint: 'diagnostics' }, sources.dashboards())
    },
  })
  new Gauge({
    name: 'weir_demo_topic_subscribers',
    help: "Live subscriptions of the feed's topic.",
    registers: [registry],
    collect() {
      this.set(sources.topicSubscribers())
    },
  })
  return { contentType: registry.contentType, render: () => registry.metrics() }
}
