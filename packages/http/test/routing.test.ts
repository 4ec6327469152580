/**
 * Routes served over real sockets with `bindRoute`: a small JSON API (typed path, query, entity),
 * rejections and exceptions on the wire (404, 405 with Allow, 400 with the decoding errors, 413,
 * 500), a streamed NDJSON body in both directions, and the per-route request timeout under
 * virtual time (exact deadline, shorter and longer than the server's).
 */
import * as t from 'io-ts'
import { afterEach, describe, expect, it } from 'vitest'
import { Materializer } from '@weir/core'
import { RawClient, VirtualTime, assertAllStagesStopped } from '@weir/testkit'
import {
  As,
  Http,
  HttpResponse,
  JSON_TYPE,
  asNdjson,
  complete,
  completeNdjson,
  concat,
  del,
  entity,
  entityAs,
  get,
  intNumber,
  param,
  parameters,
  path,
  pathPrefix,
  post,
  withRequestTimeout,
  Route,
  type HttpServerBinding,
  type ServerSettingsInput,
} from '../src/index.js'

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function serve(route: Route, settings: ServerSettingsInput = {}): Promise<HttpServerBinding> {
  const mat = Materializer.create({ logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } })
  const binding = await Http.newServerAt('127.0.0.1', 0).withSettings(settings).withMaterializer(mat).bindRoute(route, { settings: { entityLimit: '1k' } })
  cleanups.push(async () => {
    await binding.terminate('1s')
    await assertAllStagesStopped(mat, { timeoutMs: 5000 })
    mat.shutdown()
  })
  return binding
}

async function connect(binding: HttpServerBinding): Promise<RawClient> {
  const c = await RawClient.connect(binding.port)
  cleanups.push(() => c.destroy())
  return c
}

const NewTodo = t.type({ title: t.string, done: t.boolean })
type Todo = t.TypeOf<typeof NewTodo> & { id: number }

function todoApi(): Route {
  const todos = new Map<number, Todo>([[1, { id: 1, title: 'write tests', done: false }]])
  let next = 2
  return pathPrefix('todos', () =>
    concat(
      path(() =>
        concat(
          get(() => parameters(param('done', As.boolean).optional(), (done) => complete(200, [...todos.values()].filter((x) => done === undefined || x.done === done)))),
          post(() =>
            entity(NewTodo, (todo) => {
              const created = { id: next++, ...todo }
              todos.set(created.id, created)
              return complete(201, created, { headers: { Location: `/todos/${created.id}` } })
            }),
          ),
        ),
      ),
      path(intNumber, (id) =>
        concat(
          get(() => (todos.has(id) ? complete(200, todos.get(id)) : HttpResponse.json({ error: 'no such todo' }, 404))),
          del(() => (todos.delete(id) ? complete(204) : HttpResponse.empty(404))),
        ),
      ),
      path('boom', () => get(() => Promise.reject(new Error('database down')))),
    ),
  )
}

const request = (method: string, target: string, body?: string, type = JSON_TYPE): string =>
  body === undefined
    ? `${method} ${target} HTTP/1.1\r\nHost: x\r\n\r\n`
    : `${method} ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`

describe('a route served with bindRoute', () => {
  it('serves a JSON API on one kept-alive connection', async () => {
    const c = await connect(await serve(todoApi()))
    await c.write(request('POST', '/todos', '{"title":"ship it","done":true}'))
    const created = await c.readResponse()
    expect(created.status).toBe(201)
    expect(created.headers['location']).toEqual(['/todos/2'])
    expect(JSON.parse(created.body.toString())).toEqual({ id: 2, title: 'ship it', done: true })
    await c.write(request('GET', '/todos?done=true'))
    expect(JSON.parse((await c.readResponse()).body.toString())).toEqual([{ id: 2, title: 'ship it', done: true }])
    await c.write(request('GET', '/todos/1'))
    expect(JSON.parse((await c.readResponse()).body.toString())).toEqual({ id: 1, title: 'write tests', done: false })
    await c.write(request('DELETE', '/todos/1'))
    expect((await c.readResponse()).status).toBe(204)
    await c.write(request('GET', '/todos/1'))
    expect((await c.readResponse()).status).toBe(404)
  })

  it('answers rejections on the wire and keeps the connection', async () => {
    const c = await connect(await serve(todoApi()))
    await c.write(request('GET', '/nothing'))
    const notFound = await c.readResponse()
    expect(notFound.status).toBe(404)
    expect(notFound.headers['content-type']).toEqual(['application/problem+json'])
    await c.write(request('PUT', '/todos/1', '{}'))
    const notAllowed = await c.readResponse()
    expect(notAllowed.status).toBe(405)
    expect(notAllowed.headers['allow']).toEqual(['GET, DELETE'])
    await c.write(request('POST', '/todos', '{"title":5}'))
    const invalid = await c.readResponse()
    expect(invalid.status).toBe(400)
    expect(JSON.parse(invalid.body.toString())).toEqual({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: 'The request content does not have the expected shape.',
      errors: [
        { path: '$.title', expected: 'string', received: '5' },
        { path: '$.done', expected: 'boolean', received: 'undefined' },
      ],
    })
    await c.write(request('POST', '/todos', 'title=x', 'application/x-www-form-urlencoded'))
    expect((await c.readResponse()).status).toBe(415)
    await c.write(request('GET', '/todos?done=perhaps'))
    expect((await c.readResponse()).status).toBe(400)
    await c.write(request('GET', '/todos/boom'))
    const failed = await c.readResponse()
    expect(failed.status).toBe(500)
    expect(failed.body.toString()).not.toContain('database')
    expect(failed.headers['connection']).toBeUndefined()
    await c.write(request('GET', '/todos/1'))
    expect((await c.readResponse()).status).toBe(200)
  })

  it('answers a body over the route limit with 413', async () => {
    const c = await connect(await serve(todoApi()))
    await c.write(request('POST', '/todos', JSON.stringify({ title: 'x'.repeat(2000), done: false })))
    const r = await c.readResponse()
    expect(r.status).toBe(413)
    expect(JSON.parse(r.body.toString())).toMatchObject({ status: 413, limit: 1024 })
  })

  it('answers a streamed upload over the limit with 413 without reading it, then closes and lingers', async () => {
    const c = await connect(await serve(todoApi()))
    const size = 256 * 1024
    await c.write(`POST /todos HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n{"title":"`)
    const r = await c.readResponse()
    expect(r.status).toBe(413)
    expect(r.headers['connection']).toEqual(['close'])
    expect(await c.expectClosed()).toBe('fin')
  })

  it('answers HEAD through a get route, without a body', async () => {
    const c = await connect(await serve(todoApi()))
    await c.write(request('HEAD', '/todos/1'))
    const r = await c.readResponse({ requestMethod: 'HEAD' })
    expect(r.status).toBe(200)
    expect(r.body.length).toBe(0)
    expect(r.headers['content-length']).toEqual([String(JSON.stringify({ id: 1, title: 'write tests', done: false }).length)])
    await c.write(request('GET', '/todos/1'))
    expect((await c.readResponse()).status).toBe(200)
  })

  it('fails to bind with a bad routing setting, naming it', async () => {
    await expect(Http.newServerAt('127.0.0.1', 0).bindRoute(todoApi(), { settings: { entityLimit: 'lots' } })).rejects.toMatchObject({ code: 'WEIR_HTTP_INVALID_SETTING', setting: 'entityLimit' })
  })

  it('streams NDJSON in and out: a chunked upload decoded as it arrives, a chunked response', async () => {
    const Point = t.type({ x: t.number })
    const route = path('double', () => post(() => entityAs(asNdjson(Point), (points) => completeNdjson(200, points.map((p) => ({ x: p.x * 2 }))))))
    const c = await connect(await serve(route))
    const lines = ['{"x":1}\n', '{"x":2}\n{"x"', ':3}\n']
    const chunked = lines.map((l) => `${Buffer.byteLength(l).toString(16)}\r\n${l}\r\n`).join('')
    await c.write(`POST /double HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}0\r\n\r\n`)
    const r = await c.readResponse()
    expect(r.status).toBe(200)
    expect(r.headers['transfer-encoding']).toEqual(['chunked'])
    expect(r.body.toString()).toBe('{"x":2}\n{"x":4}\n{"x":6}\n')
  })
})

describe('per-route request timeout', () => {
  async function serveTimed(route: Route, requestTimeout: string): Promise<{ binding: HttpServerBinding; time: VirtualTime }> {
    const time = new VirtualTime()
    time.materializer.logger.warn = () => {}
    const binding = await Http.newServerAt('127.0.0.1', 0).withSettings({ requestTimeout }).withMaterializer(time.materializer).bindRoute(route)
    cleanups.push(async () => {
      const done = binding.terminate('1s')
      await time.advance(1000)
      await done
      await assertAllStagesStopped(time.materializer, { timeoutMs: 5000 })
    })
    return { binding, time }
  }
  const never = (): Promise<HttpResponse> => new Promise<HttpResponse>(() => {})

  it('a shorter timeout answers 503 at its exact deadline and closes; other routes keep the server setting', async () => {
    const route = concat(path('quick', () => withRequestTimeout('500ms', () => get(never))), path('other', () => get(never)))
    const { binding, time } = await serveTimed(route, '20s')
    const c = await connect(binding)
    await c.write(request('GET', '/quick'))
    await time.advance(499)
    await c.expectOpen(20)
    expect(c.received.length).toBe(0)
    await time.advance(1)
    const r = await c.readResponse()
    expect(r.status).toBe(503)
    expect(r.headers['connection']).toEqual(['close'])
    expect(await c.expectClosed()).toBe('fin')
    await c.halfClose()
    const o = await connect(binding)
    await o.write(request('GET', '/other'))
    await time.advance(19_999)
    await o.expectOpen(20)
    expect(o.received.length).toBe(0)
    await time.advance(1)
    expect((await o.readResponse()).status).toBe(503)
    await o.halfClose()
  })

  it('a longer timeout lets a slow route answer after the server setting', async () => {
    let release!: (r: HttpResponse) => void
    const route = path('report', () => withRequestTimeout('1m', () => get(() => new Promise<HttpResponse>((r) => (release = r)))))
    const { binding, time } = await serveTimed(route, '2s')
    const c = await connect(binding)
    await c.write(request('GET', '/report'))
    await time.advance(30_000)
    release(HttpResponse.text('done'))
    const r = await c.readResponse()
    expect(r.status).toBe(200)
    expect(r.body.toString()).toBe('done')
  })
})

describe('Route.handler', () => {
  it('is a plain handler for bind', async () => {
    const mat = Materializer.create()
    const binding = await Http.newServerAt('127.0.0.1', 0).withMaterializer(mat).bind(Route.handler(path('hi', () => get(() => complete(200, { hi: true }))), { materializer: mat }))
    cleanups.push(async () => {
      await binding.terminate('1s')
      await assertAllStagesStopped(mat, { timeoutMs: 5000 })
      mat.shutdown()
    })
    const c = await connect(binding)
    await c.write(request('GET', '/hi'))
    expect((await c.readResponse()).body.toString()).toBe('{"hi":true}')
    await c.write(request('GET', '/ho'))
    expect((await c.readResponse()).status).toBe(404)
  })
})
