/**
 * Type-level specification of the routing DSL, checked by `pnpm typecheck` (never run): extracted
 * values reach inner functions with their types and without casts, and wrong usages do not compile
 * (each `@ts-expect-error` fails the typecheck if the line below it stops being an error).
 */
import * as t from 'io-ts'
import { expectTypeOf } from 'vitest'
import type { Source } from '@weir/core'
import { HttpResponse, type HttpRequest } from '../model/HttpMessage.js'
import { complete, completeNdjson, extractRequest, withRequestTimeout } from './basicDirectives.js'
import { asNdjson, entity, entityAs } from './entity.js'
import { get, post } from './methodDirectives.js'
import { path, pathPrefix } from './pathDirectives.js'
import { decimalNumber, intNumber, oneOf, remaining, segment, segments, uuid } from './pathMatchers.js'
import { concat, type Directive, type Route } from './Route.js'
import { As, header, headerValues, param, parameters } from './valueDirectives.js'

const Item = t.type({ name: t.string, price: t.number })

export const typed: Route[] = [
  path('items', intNumber, (id) => {
    expectTypeOf(id).toEqualTypeOf<number>()
    return get(() => complete(200, { id }))
  }),
  path('a', segment, 'b', decimalNumber, uuid, remaining, (s, d, u, r) => {
    expectTypeOf([s, d, u, r] as const).toEqualTypeOf<readonly [string, number, string, string]>()
    return complete(200)
  }),
  path('files', segments, (parts) => {
    expectTypeOf(parts).toEqualTypeOf<string[]>()
    return complete(200)
  }),
  path('sort', oneOf({ asc: 1, desc: -1 }), (dir) => {
    expectTypeOf(dir).toEqualTypeOf<1 | -1>()
    return complete(200)
  }),
  pathPrefix('api', () => concat(get(() => HttpResponse.text('a response is a route result')), post(async () => HttpResponse.empty()))),
  parameters(param('q'), param('page', As.int).withDefault(1), param('tag').repeated(), param('exact', As.boolean).optional(), param('dir', As.oneOf('asc', 'desc')), (q, page, tags, exact, dir) => {
    expectTypeOf(q).toEqualTypeOf<string>()
    expectTypeOf(page).toEqualTypeOf<number>()
    expectTypeOf(tags).toEqualTypeOf<string[]>()
    expectTypeOf(exact).toEqualTypeOf<boolean | undefined>()
    expectTypeOf(dir).toEqualTypeOf<'asc' | 'desc'>()
    return complete(200)
  }),
  headerValues(header('X-Id'), header('X-N', As.int).optional(), (id, n) => {
    expectTypeOf(id).toEqualTypeOf<string>()
    expectTypeOf(n).toEqualTypeOf<number | undefined>()
    return complete(200)
  }),
  entity(Item, (item) => {
    expectTypeOf(item).toEqualTypeOf<{ name: string; price: number }>()
    return complete(201, item, { codec: Item })
  }),
  entityAs(asNdjson(Item), (items) => {
    expectTypeOf(items).toEqualTypeOf<Source<{ name: string; price: number }, unknown>>()
    return completeNdjson(200, items, { codec: Item })
  }),
  extractRequest((req) => {
    expectTypeOf(req).toEqualTypeOf<HttpRequest>()
    return withRequestTimeout('2s', () => complete(200))
  }),
]

// A directive of one's own follows the Directive shape and types its inner function.
const user: Directive<[{ name: string }]> = (inner) => extractRequest((req) => inner({ name: req.headers.get('x-user') ?? 'anonymous' }))
export const custom: Route = user((u) => complete(200, { hello: u.name }))

export const wrong: Route[] = [
  // @ts-expect-error an int segment is a number, not a string
  path('items', intNumber, (id: string) => complete(200, { id })),
  // @ts-expect-error one matcher extracts one value
  path('items', intNumber, (id, extra) => complete(200, { id, extra })),
  // @ts-expect-error a default must have the parameter's type
  parameters(param('page', As.int).withDefault('1'), (page) => complete(200, { page })),
  // @ts-expect-error an optional parameter may be undefined
  parameters(param('page', As.int).optional(), (page: number) => complete(200, { page })),
  // @ts-expect-error header specs belong to headerValues
  parameters(header('X-Id'), (id) => complete(200, { id })),
  // @ts-expect-error query specs belong to parameters
  headerValues(param('q'), (q) => complete(200, { q })),
  // @ts-expect-error the entity has the codec's type
  entity(Item, (item: { name: number }) => complete(200, item)),
  // @ts-expect-error with a codec, the value must be the codec's type
  complete(200, { name: 'x', price: 'free' }, { codec: Item }),
  // @ts-expect-error a directive takes an inner function, not a route
  get(complete(200)),
  // @ts-expect-error an inner function returns a route or a response
  get(() => 42),
  // @ts-expect-error the inner function comes last
  path(() => complete(200), 'items'),
]
