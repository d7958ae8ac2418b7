/** One SSE block (the text between blank lines) parsed per the WHATWG rules EventSource uses. */
export interface ParsedBlock {
  id?: string
  /** The `event:` field as sent; undefined when the block has none (EventSource then says `message`). */
  event?: string
  data: string
  retry?: number
  /** True when the block holds only comment lines (keep-alives). */
  comment: boolean
}

export function parseSseBlock(block: string): ParsedBlock {
  const parsed: ParsedBlock = { data: '', comment: true }
  const data: string[] = []
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue
    parsed.comment = false
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'id') parsed.id = value
    else if (field === 'event') parsed.event = value
    else if (field === 'data') data.push(value)
    else if (field === 'retry') parsed.retry = Number(value)
  }
  parsed.data = data.join('\n')
  return parsed
}
