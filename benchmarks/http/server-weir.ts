/** weir: `Http.newServerAt(…).bind(handler)` with default settings, as the README shows it. */
import { Http, HttpResponse } from '@weir/http'
import { HELLO, serve } from './serve.js'

await serve(async () => {
  const binding = await Http.newServerAt('127.0.0.1', 0).bind(() => HttpResponse.text(HELLO))
  return { port: binding.port, close: () => binding.terminate('1s') }
})
