/**
 * Entity decoding with io-ts: the typed value, and the exact 400 bodies for an empty body, bad JSON
 * and values of the wrong shape; 413 past the limit (strict and streamed bodies), 415 for other
 * media types; a body read once for all alternatives; NDJSON in as a `Source`.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { Sink, Source } from '@weir/core'
import { testRoute } from '@weir/testkit'
import { Headers } from '../model/Headers.js'
import { HttpEntity } from '../model/HttpEntity.js'
import { HttpRequest } from '../model/HttpMessage.js'
import { complete, completeText } from './basicDirectives.js'
import { asBytes, asJson, asNdjson, asStream, asText, entity, entityAs, EntityDecodingError } from './entity.js'
import { post } from './methodDirectives.js'
import { Rejections } from './rejections.js'
import { concat } from './Route.js'

interface PositiveBrand {
  readonly Positive: unique symbol
}
const Positive = t.brand(t.number, (n): n is t.Branded<number, PositiveBrand> => n > 0, 'Positive')
const Item = t.type({ name: t.string, price: Positive, tags: t.array(t.string), size: t.union([t.literal('S'), t.literal('M')]) })
type Item = t.TypeOf<typeof Item>

const save = entity(Item, (item: Item) => complete(201, { saved: item.name, total: item.price * 2 }))
const jsonPost = (body: string, contentType = 'application/json'): HttpRequest => HttpRequest.post('/items', HttpEntity.strict(new TextEncoder().encode(body), contentType))

describe('entity(codec)', () => {
  it('gives the decoded, typed value', async () => {
    const r = await testRoute(save, jsonPost('{"name":"pen","price":2.5,"tags":["a"],"size":"M"}'))
    expect(r.status).toBe(201)
    expect(await r.json()).toEqual({ saved: 'pen', total: 5 })
  })

  it('accepts application/*+json and parameters of the media type', async () => {
    expect((await testRoute(save, jsonPost('{"name":"pen","price":1,"tags":[],"size":"S"}', 'application/vnd.x+json; charset=utf-8'))).status).toBe(201)
  })

  it('answers a body of the wrong shape with 400 and every failure, where it is', async () => {
    const r = await testRoute(save, jsonPost('{"price":-1,"tags":["a",3],"size":"XL","extra":true}'))
    expect(r.rejections).toEqual([
      Rejections.malformedEntity('invalid-value', [
        { path: '$.name', expected: 'string', received: 'undefined' },
        { path: '$.price', expected: 'Positive', received: '-1' },
        { path: '$.tags[1]', expected: 'string', received: '3' },
        { path: '$.size', expected: '("S" | "M")', received: '"XL"' },
      ]),
    ])
    expect(r.status).toBe(400)
    expect(r.contentType).toBe('application/problem+json')
    expect(await r.text()).toBe(
      '{"type":"about:blank","title":"Bad Request","status":400,"detail":"The request content does not have the expected shape.","errors":[' +
        '{"path":"$.name","expected":"string","received":"undefined"},' +
        '{"path":"$.price","expected":"Positive","received":"-1"},' +
        '{"path":"$.tags[1]","expected":"string","received":"3"},' +
        '{"path":"$.size","expected":"(\\"S\\" | \\"M\\")","received":"\\"XL\\""}]}',
    )
  })

  it('reports a root of the wrong type at $', async () => {
    const r = await testRoute(save, jsonPost('[1]'))
    expect(r.rejections).toEqual([Rejections.malformedEntity('invalid-value', [{ path: '$', expected: Item.name, received: '[1]' }])])
  })

  it('answers bad JSON (and bytes that are not UTF-8) with 400', async () => {
    for (const body of ['{"name":', 'nope']) {
      const r = await testRoute(save, jsonPost(body))
      expect(r.rejections).toEqual([Rejections.malformedEntity('invalid-json')])
      expect(await r.text()).toBe('{"type":"about:blank","title":"Bad Request","status":400,"detail":"The request content is not valid JSON."}')
    }
    const notUtf8 = HttpRequest.post('/', HttpEntity.strict(Uint8Array.from([0x22, 0xff, 0x22]), 'application/json'))
    expect((await testRoute(save, notUtf8)).rejections).toEqual([Rejections.malformedEntity('invalid-json')])
  })

  it('answers an empty body with 400, whatever its Content-Type', async () => {
    for (const e of [HttpEntity.empty, HttpEntity.strict(new Uint8Array(0), 'application/json'), HttpEntity.streamed(Source.empty(), { contentType: 'application/json' })]) {
      const r = await testRoute(save, HttpRequest.post('/', e))
      expect(r.rejections).toEqual([Rejections.malformedEntity('empty')])
      expect(await r.text()).toBe('{"type":"about:blank","title":"Bad Request","status":400,"detail":"Request entity expected but not supplied."}')
    }
  })

  it('answers another media type, or none, with 415', async () => {
    const r = await testRoute(save, jsonPost('{}', 'text/plain'))
    expect(r.rejections).toEqual([Rejections.unsupportedMediaType('text/plain', ['application/json'])])
    expect(r.status).toBe(415)
    const none = await testRoute(save, HttpRequest.post('/', HttpEntity.strict(new TextEncoder().encode('{}'))))
    expect(none.rejections).toEqual([Rejections.unsupportedMediaType(undefined, ['application/json'])])
  })

  it('answers a body over the limit with 413: strict, declared, or found while reading', async () => {
    const small = { settings: { entityLimit: 16 } }
    const body = '{"name":"a long name","price":1,"tags":[],"size":"S"}'
    const strict = await testRoute(save, jsonPost(body), small)
    expect(strict.rejections).toEqual([Rejections.entityTooLarge(16, body.length)])
    expect(strict.status).toBe(413)
    expect(await strict.text()).toBe('{"type":"about:blank","title":"Content Too Large","status":413,"detail":"The request content was larger than the limit of 16 bytes.","limit":16}')

    let pulled = 0
    const chunks = Source.from(['{"name":"a lo', 'ng name","pri', 'ce":1}']).map((s) => (pulled++, new TextEncoder().encode(s)))
    const declared = await testRoute(save, HttpRequest.post('/', HttpEntity.streamed(chunks, { contentType: 'application/json', contentLength: 40 })), small)
    expect(declared.rejections).toEqual([Rejections.entityTooLarge(16, 40)])
    expect(pulled).toBe(0) // not read at all

    const chunked = await testRoute(save, HttpRequest.post('/', HttpEntity.streamed(chunks, { contentType: 'application/json' })), small)
    expect(chunked.rejections).toEqual([Rejections.entityTooLarge(16, undefined)])
    expect(chunked.status).toBe(413)
  })

  it('reads a streamed body once, for every alternative that wants it', async () => {
    let materialized = 0
    const data = Source.lazySource(() => {
      materialized++
      return Source.single(new TextEncoder().encode('{"n":3}'))
    })
    const route = concat(
      entity(t.type({ n: t.string }), (v) => complete(200, v)),
      entity(t.type({ n: t.number }), (v) => complete(200, { twice: v.n * 2 })),
    )
    const r = await testRoute(route, HttpRequest.post('/', HttpEntity.streamed(data, { contentType: 'application/json' })))
    expect(await r.json()).toEqual({ twice: 6 })
    expect(materialized).toBe(1)
  })
})

describe('entityAs', () => {
  it('reads text, bytes, a stream and JSON with its own limit', async () => {
    const text = await testRoute(entityAs(asText(), (s) => completeText(200, s.toUpperCase())), HttpRequest.post('/', HttpEntity.text('hi')))
    expect(await text.text()).toBe('HI')
    const bytes = await testRoute(entityAs(asBytes(), (b) => complete(200, { n: b.length })), HttpRequest.post('/', HttpEntity.strict(Uint8Array.of(1, 2, 3), 'application/octet-stream')))
    expect(await bytes.json()).toEqual({ n: 3 })
    const stream = entityAs(asStream(), async (s) => complete(200, { chunks: (await s.runWith(Sink.seq())).length }))
    expect(await (await testRoute(stream, HttpRequest.post('/', HttpEntity.streamed(Source.from([Uint8Array.of(1), Uint8Array.of(2)]))))).json()).toEqual({ chunks: 2 })
    const limited = await testRoute(entityAs(asJson(t.unknown, { maxBytes: 2 }), () => complete(200)), jsonPost('[1,2]'))
    expect(limited.rejections).toEqual([Rejections.entityTooLarge(2, 5)])
  })

  it('text refuses a JSON body (415)', async () => {
    const r = await testRoute(entityAs(asText(), (s) => completeText(200, s)), jsonPost('{}'))
    expect(r.rejections).toEqual([Rejections.unsupportedMediaType('application/json', ['text/plain'])])
  })
})

describe('asNdjson', () => {
  const Reading = t.type({ sensor: t.string, value: t.number })
  const ndjson = (lines: string[], contentType = 'application/x-ndjson'): HttpRequest =>
    HttpRequest.post('/readings', HttpEntity.streamed(Source.from(lines).map((l) => new TextEncoder().encode(l)), { contentType }))
  const sum = post(() => entityAs(asNdjson(Reading), async (readings) => complete(200, { total: await readings.runWith(Sink.fold(0, (n, r) => n + r.value)) })))

  it('gives a Source of decoded values, however lines are cut; blank lines are skipped', async () => {
    const r = await testRoute(sum, ndjson(['{"sensor":"a","val', 'ue":1}\n\n{"sensor":"b","value":2}\r\n', '{"sensor":"c","value":3}']))
    expect(await r.json()).toEqual({ total: 6 })
  })

  it('fails the source with WEIR_HTTP_ENTITY_DECODING at the bad line (400 by default)', async () => {
    const r = await testRoute(sum, ndjson(['{"sensor":"a","value":1}\n', '{"sensor":"b","value":"x"}\n']))
    expect(r.error).toBeInstanceOf(EntityDecodingError)
    expect(r.error).toMatchObject({ code: 'WEIR_HTTP_ENTITY_DECODING', status: 400, reason: 'invalid-value', line: 2, errors: [{ path: '$.value', expected: 'number', received: '"x"' }] })
    expect(r.status).toBe(400)
    expect(await r.json()).toMatchObject({ status: 400, code: 'WEIR_HTTP_ENTITY_DECODING' })
    const bad = await testRoute(sum, ndjson(['\n', '{"sensor"\n']))
    expect(bad.error).toMatchObject({ reason: 'invalid-json', line: 2 })
  })

  it('fails on a line over the limit', async () => {
    const r = await testRoute(sum, ndjson(['{"sensor":"aaaaaaaaaaaaaaaaaaaaaaaa","value":1}\n']), { settings: { ndjsonLineLimit: 10 } })
    expect(r.error).toMatchObject({ code: 'WEIR_HTTP_ENTITY_DECODING', reason: 'line-too-long', line: 1 })
  })

  it('takes application/x-ndjson and application/jsonl only', async () => {
    expect((await testRoute(sum, ndjson(['{"sensor":"a","value":1}'], 'application/jsonl'))).status).toBe(200)
    expect((await testRoute(sum, ndjson([], 'application/json'))).rejections).toEqual([Rejections.unsupportedMediaType('application/json', ['application/x-ndjson'])])
  })
})

describe('a request as a client sends it', () => {
  it('takes the Content-Type of the headers when the entity has none', async () => {
    const req = new HttpRequest('POST', '/', Headers.from([['Content-Type', 'application/json']]), HttpEntity.strict(new TextEncoder().encode('{"name":"x","price":1,"tags":[],"size":"S"}')))
    expect((await testRoute(save, req)).status).toBe(201)
  })
})
