/**
 * The JSON API example, checked with the route test kit (no sockets): what its README section
 * promises — created books, validation errors with their paths, 405 with Allow, query parameters.
 */
import { describe, expect, it } from 'vitest'
import { HttpEntity, HttpRequest } from '@weir/http'
import { testRoute } from '@weir/testkit'
import { WebSocket as WsClient } from 'ws'
import { Http } from '@weir/http'
import { bookApi, exampleRoute } from './jsonApi.js'

const postBook = (body: unknown): HttpRequest => HttpRequest.post('/books', HttpEntity.json(body))

describe('the JSON API example', () => {
  it('creates, lists, reads and deletes books', async () => {
    const api = bookApi()
    const created = await testRoute(api, postBook({ title: 'Dune', author: 'Frank Herbert', year: 1965 }))
    expect(created.status).toBe(201)
    expect(created.headers.get('location')).toBe('/books/1')
    expect(await (await testRoute(api, HttpRequest.get('/books?author=Frank%20Herbert'))).json()).toEqual([{ id: 1, title: 'Dune', author: 'Frank Herbert', year: 1965 }])
    expect(await (await testRoute(api, HttpRequest.get('/books?author=nobody'))).json()).toEqual([])
    expect((await testRoute(api, HttpRequest.delete('/books/1'))).status).toBe(204)
    expect((await testRoute(api, HttpRequest.get('/books/1'))).status).toBe(404)
  })

  it('rejects an invalid book with the list of what is wrong', async () => {
    const r = await testRoute(bookApi(), postBook({ title: 'Emma', year: 18.15 }))
    expect(r.status).toBe(400)
    expect(await r.json()).toEqual({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: 'The request content does not have the expected shape.',
      errors: [
        { path: '$.author', expected: 'string', received: 'undefined' },
        { path: '$.year', expected: 'Int', received: '18.15' },
      ],
    })
  })

  it('answers 405 with Allow, and 400 for a malformed query parameter', async () => {
    const put = await testRoute(bookApi(), new HttpRequest('PUT', '/books/1'))
    expect(put.status).toBe(405)
    expect(put.headers.get('allow')).toBe('GET, DELETE')
    const bad = await testRoute(bookApi(), HttpRequest.get('/books?limit=many'))
    expect(bad.status).toBe(400)
    expect(bad.rejections).toEqual([{ kind: 'malformed-query-param', name: 'limit', value: 'many', expected: 'a whole number' }])
  })

  it('gives the report route a longer request timeout', async () => {
    expect((await testRoute(bookApi(), HttpRequest.get('/report'))).requestTimeoutMs).toBe(60_000)
  })

  it('serves the API and the WebSocket echo over real sockets, and a plain GET to /echo gets 426', async () => {
    const binding = await Http.newServerAt('127.0.0.1', 0).bindRoute(exampleRoute())
    try {
      const base = `http://127.0.0.1:${binding.port}`
      const created = await fetch(`${base}/books`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Dune', author: 'Frank Herbert', year: 1965 }) })
      expect(created.status).toBe(201)
      const plain = await fetch(`${base}/echo`)
      expect(plain.status).toBe(426)
      expect(plain.headers.get('upgrade')).toBe('websocket')
      const ws = new WsClient(`ws://127.0.0.1:${binding.port}/echo`)
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
      const replies: string[] = []
      const got = new Promise<void>((resolve) => ws.on('message', (d) => (replies.push(String(d)), replies.length === 2 && resolve())))
      ws.send('hello')
      ws.send('again')
      await got
      expect(replies).toEqual(['echo: hello', 'echo: again'])
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
      ws.close(1000)
      expect(await closed).toBe(1000)
    } finally {
      await binding.terminate('1s')
    }
  })
})
