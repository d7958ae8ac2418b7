import { Elysia, t } from 'elysia'
import { HubError } from '../hub/errors'
import { PUBLISH_FIELDS, type PublishInput } from '../hub/event'
import { refuseUnknownFields } from '../hub/fields'
import type { Hub } from '../hub/hub'
import type { Principal } from '../hub/principal'
import { readPublishBody } from './body'
import type { EdgeAuth } from './edge-auth'
import { PUBLISH_SECURITY } from './openapi-security'
import type { RouteGuard } from './route-guard'

const Data = t.Any({
  description: 'The payload: a string (sent as is) or any JSON value (sent as JSON text). Required.',
  examples: ['Hello!', { user: 'ada', text: 'hi' }],
})
const EventName = t.Optional(t.String({ description: 'SSE event name (default "message"): 1-64 of A-Z a-z 0-9 _ . : -', examples: ['chat'] }))
const EventIdField = t.Optional(
  t.String({ description: 'Your own id, `<ms>-<seq>`, newer than every id so far (else 409). Usually left out: Herald assigns one.', examples: ['1764135000000-0'] }),
)
const PrivateField = t.Optional(
  t.Boolean({
    description: 'A private event: delivered (live and on resume) only to subscribers whose token covers its topic, never through a public rule or a wider wildcard. Default false. In a form: a checkbox, or true/false.',
    default: false,
  }),
)

// additionalProperties: false documents what the edges enforce: any other field is `400 unknown_field`.
const TopicBody = t.Object(
  { data: Data, event: EventName, id: EventIdField, private: PrivateField },
  { additionalProperties: false, examples: [{ data: 'Hello!' }, { data: { text: 'hi' }, event: 'chat' }, { data: { text: 'for ada only' }, private: true }] },
)

const BatchItem = t.Object(
  {
    topic: t.Union([t.String(), t.Array(t.String())], { description: 'One topic, or several (one event each, in order)', examples: ['chat/room-1'] }),
    data: Data,
    event: EventName,
    id: EventIdField,
    private: PrivateField,
  },
  { additionalProperties: false },
)

const Published = t.Object({ id: t.String({ examples: ['1764135000000-0'] }), topic: t.String({ examples: ['chat/room-1'] }) })
const ErrorBody = t.Object({ error: t.Object({ code: t.String(), message: t.String() }) })

const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  409: ErrorBody,
  413: ErrorBody,
  415: ErrorBody,
}

function asObject(value: unknown, message: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HubError('invalid_message', message)
  return value as Record<string, unknown>
}

/** Percent-decodes a topic path; malformed escapes (`%E0%A4%A`, `%FF`) are a client error, not a crash. */
function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    throw new HubError('invalid_topic', `the topic in the path has a malformed percent-escape: ${JSON.stringify(raw.slice(0, 80))}`)
  }
}

/** The fields of a `POST /topics/{topic}` body (JSON or form): a publish without `topic`, which is the path. */
export const TOPIC_BODY_FIELDS = PUBLISH_FIELDS.filter((field) => field !== 'topic')

/** Refuses a `POST /topics/{topic}` body with a field it does not have, naming it. */
function checkTopicBody(fields: Record<string, unknown>): void {
  if (Object.hasOwn(fields, 'topic')) {
    throw new HubError('unknown_field', 'unknown field "topic" in the body: here the topic is the path (/topics/{topic}); to name it in the body, POST /publish')
  }
  refuseUnknownFields(fields, TOPIC_BODY_FIELDS, 'the body')
}

function expand(item: Record<string, unknown>, what: string): PublishInput[] {
  refuseUnknownFields(item, PUBLISH_FIELDS, what)
  const topics = Array.isArray(item.topic) ? item.topic : [item.topic]
  // An empty list would publish nothing and still answer 200: refuse it like any other bad topic.
  if (topics.length === 0) throw new HubError('invalid_topic', '"topic" is an empty list: name at least one topic')
  return topics.map((topic) => ({ topic: topic as string, data: item.data, event: item.event as string | undefined, id: item.id as string | undefined, private: item.private as boolean | undefined }))
}

/** What a publish route's parser hands its handler: who publishes (looked up first) and the body. */
class PublishRequest {
  constructor(
    readonly principal: Principal,
    readonly body: unknown,
  ) {}
}

function publishRequest(body: unknown): PublishRequest {
  // The parser always makes one (a failure is answered by guard.run before this is reached).
  return body as PublishRequest
}

/**
 * The HTTP publish API. Who publishes is decided first, from the request's token (or, with no key
 * configured, its address), before a byte of the body is read: a client that may not publish
 * cannot make the server read 64 KB (401 / 403). Bodies are then read by readPublishBody (size
 * limit, JSON / text / form) and validated by the hub alone, so HTTP and WebSocket publishers get
 * the same error codes; the TypeBox schemas below only document the bodies in OpenAPI. A batch is
 * all-or-nothing, permissions included.
 */
export function publishApi(hub: Hub, options: { maxMessageBytes: number }, guard: RouteGuard, edge: EdgeAuth) {
  const parse = guard.parse(async (request, server) => {
    const principal = await edge.publisher(request, server)
    return new PublishRequest(principal, await readPublishBody(request, options.maxMessageBytes))
  })
  return new Elysia({ name: 'herald-publish' })
    .post(
      '/topics/*',
      (context) =>
        guard.run(context, async () => {
          const raw = context.params['*']
          const topic = raw.includes('%') ? decodePath(raw) : raw
          const { principal, body } = publishRequest(context.body)
          const fields = asObject(body, 'the body must be a JSON object such as {"data": "Hello!"}')
          checkTopicBody(fields)
          const [event] = await hub.publish([{ ...fields, topic } as PublishInput], principal)
          return { id: event!.id, topic: event!.topic }
        }),
      {
        parse,
        response: { 200: Published, ...errorResponses },
        // Documented by hand as /topics/{topic} (TOPIC_PATH_DOC): Swagger UI cannot fill in a `*`.
        detail: { hide: true },
      },
    )
    .post(
      '/publish',
      (context) =>
        guard.run(context, async () => {
          const { principal, body } = publishRequest(context.body)
          const items = Array.isArray(body) ? body : [body]
          if (items.length === 0) throw new HubError('invalid_message', 'the batch is empty')
          const inputs = items.flatMap((item, index) => {
            const what = Array.isArray(body) ? `item ${index}` : 'the body'
            return expand(asObject(item, `${what}: each event must be an object such as {"topic": "news", "data": "Hello!"}`), what)
          })
          const events = await hub.publish(inputs, principal)
          return { events: events.map(({ id, topic }) => ({ id, topic })) }
        }),
      {
        parse,
        response: { 200: t.Object({ events: t.Array(Published) }), ...errorResponses },
        detail: {
          tags: ['Publish'],
          security: PUBLISH_SECURITY,
          summary: 'Publish one event, or a batch',
          description:
            'One object, or an array of them (a batch: validated as a whole, so one bad item publishes nothing; stored in order). `topic` may be a list: one event per topic. Answers with the ids, in order. With a key configured, send a token (`Authorization: Bearer …`) whose claims cover every topic of the batch (else 401 / 403, nothing published).',
          requestBody: {
            content: {
              'application/json': {
                schema: { $ref: '#/components/schemas/BatchPublish' },
                examples: {
                  one: { value: { topic: 'chat/room-1', data: 'Hello!' } },
                  batch: { value: [{ topic: 'chat/room-1', data: { text: 'hi' }, event: 'chat' }, { topic: ['news', 'alerts'], data: 'both' }] },
                  private: { value: { topic: 'users/ada/inbox', data: { text: 'for ada only' }, private: true } },
                },
              },
            },
          },
        },
      },
    )
}

/** Schemas referenced from the hand-written request bodies above (listed in the OpenAPI components). */
export const publishSchemas = {
  TopicPublish: TopicBody,
  BatchPublish: t.Union([BatchItem, t.Array(BatchItem)]),
  Published,
  Error: ErrorBody,
}

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } })

/** The OpenAPI operation for `POST /topics/{topic}` (the route itself is `/topics/*`). */
export const TOPIC_PATH_DOC = {
  post: {
    tags: ['Publish'],
    security: PUBLISH_SECURITY,
    summary: 'Publish one event to a topic',
    description:
      'The path after /topics/ is the topic: `/topics/chat/room-1` (in Swagger UI type `chat/room-1`; an encoded `%2F` works too). Send JSON `{"data": …}`, plain text (the body is the data), or an HTML form with a `data` field. Answers with the id the event was stored under, once every connected subscriber has it queued. With a key configured, send a token (`Authorization: Bearer …`) that covers the topic.',
    parameters: [{ name: 'topic', in: 'path', required: true, schema: { type: 'string' }, example: 'chat/room-1', description: 'Segments joined by "/": A-Z a-z 0-9 _ - . ~ : @ + = , !' }],
    requestBody: {
      required: true,
      content: {
        'application/json': { schema: { $ref: '#/components/schemas/TopicPublish' }, example: { data: 'Hello!', event: 'greeting' } },
        'text/plain': { schema: { type: 'string' }, example: 'Hello!' },
        'application/x-www-form-urlencoded': { schema: { $ref: '#/components/schemas/TopicPublish' } },
      },
    },
    responses: {
      200: { description: 'Stored and queued to every subscriber', content: { 'application/json': { schema: { $ref: '#/components/schemas/Published' } } } },
      400: errorResponse('Invalid topic, event name, id, data or body'),
      401: errorResponse('A key is configured and the request has no token (missing_token), or a bad or expired one (invalid_token, token_expired); WWW-Authenticate says which'),
      403: errorResponse('Your token does not cover this topic, or the topic is written only by the server (forbidden_topic); with no key configured, not from this machine (loopback_only); a cookie or browser publish from a foreign origin (forbidden_origin)'),
      409: errorResponse('The id you chose is not newer than the last one'),
      413: errorResponse('The body is larger than --max-message-size'),
      415: errorResponse('Unsupported content type'),
    },
  },
}
