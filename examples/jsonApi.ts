/**
 * A small JSON API with weir's routing DSL: typed path segments and query parameters, request
 * bodies validated by io-ts codecs, rejections answered as RFC 9457 problem details, and a slow
 * route with its own request timeout, plus a WebSocket echo at `/echo`. Run it with
 * `pnpm example:routing`: it starts the server, calls it with fetch and a WebSocket client, prints what came
 * back, and stops.
 */
import * as t from 'io-ts'
import { pathToFileURL } from 'node:url'
import { WebSocket as WsClient } from 'ws'
import { Flow } from '@weir/core'
import { As, Http, Message, complete, concat, del, entity, get, handleWebSocket, intNumber, param, parameters, path, pathPrefix, post, withRequestTimeout, type Route } from '@weir/http'

/** What clients send to create a book: validated before the route sees it. */
export const NewBook = t.type({ title: t.string, author: t.string, year: t.Int })
export type Book = t.TypeOf<typeof NewBook> & { readonly id: number }

/** The API: GET/POST /books, GET/DELETE /books/:id, GET /report (slow, 1 minute allowed). */
export function bookApi(): Route {
  const books = new Map<number, Book>()
  let nextId = 1
  return concat(
    pathPrefix('books', () =>
      concat(
        path(() =>
          concat(
            get(() =>
              parameters(param('author').optional(), param('limit', As.int).withDefault(20), (author, limit) =>
                complete(200, [...books.values()].filter((b) => author === undefined || b.author === author).slice(0, limit)),
              ),
            ),
            post(() =>
              entity(NewBook, (book) => {
                const created: Book = { id: nextId++, ...book }
                books.set(created.id, created)
                return complete(201, created, { headers: { Location: `/books/${created.id}` } })
              }),
            ),
          ),
        ),
        path(intNumber, (id) =>
          concat(
            get(() => {
              const book = books.get(id)
              return book === undefined ? complete(404, { error: `no book ${id}` }) : complete(200, book)
            }),
            del(() => (books.delete(id) ? complete(204) : complete(404, { error: `no book ${id}` }))),
          ),
        ),
      ),
    ),
    path('report', () => withRequestTimeout('1m', () => get(async () => complete(200, { books: books.size })))),
  )
}

/** A WebSocket echo: every text message comes back prefixed, binary ones as they are. */
export const echo = Flow.create<Message>().mapAsync(1, async (m) => {
  const strict = await Message.toStrict(m)
  return strict.type === 'text' ? Message.text(`echo: ${strict.text}`) : strict
})

/** The whole example server: the book API and the echo. */
export function exampleRoute(): Route {
  return concat(bookApi(), path('echo', () => handleWebSocket(echo)))
}

async function main(): Promise<void> {
  const binding = await Http.newServerAt('127.0.0.1', 0).bindRoute(exampleRoute())
  const base = `http://127.0.0.1:${binding.port}`
  const show = async (method: string, target: string, body?: unknown): Promise<void> => {
    const res = await fetch(base + target, body === undefined ? { method } : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    console.log(`${method} ${target} → ${res.status}`, res.status === 204 ? '' : await res.text())
  }
  await show('POST', '/books', { title: 'Dune', author: 'Frank Herbert', year: 1965 })
  await show('POST', '/books', { title: 'Emma', author: 'Jane Austen', year: '1815' }) // 400: $.year expected Int
  await show('GET', '/books?author=Frank%20Herbert')
  await show('GET', '/books/1')
  await show('PUT', '/books/1', {}) // 405, Allow: GET, DELETE
  await show('GET', '/books?limit=many') // 400: malformed query parameter
  await show('GET', '/report')
  const ws = new WsClient(`ws://127.0.0.1:${binding.port}/echo`)
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  ws.send('hello')
  console.log('WS /echo →', String(await new Promise((resolve) => ws.once('message', resolve))))
  ws.close(1000)
  await new Promise((resolve) => ws.once('close', resolve))
  await binding.terminate('1s')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
