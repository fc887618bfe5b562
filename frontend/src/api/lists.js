/** Accepts a paginated body {items, page, per_page, total} or a bare array, and returns the paginated form. */
export function asPage(data, fallback = {}) {
  if (Array.isArray(data)) {
    return { items: data, page: 1, per_page: data.length || fallback.per_page || 20, total: data.length }
  }
  const items = data?.items ?? []
  return {
    items,
    page: data?.page ?? fallback.page ?? 1,
    per_page: data?.per_page ?? fallback.per_page ?? (items.length || 20),
    total: data?.total ?? items.length,
  }
}

/** The items of a list response, whichever of the two forms it has. */
export function asItems(data) {
  return asPage(data).items
}

/** Drops empty filter values so that query strings stay clean. */
export function cleanParams(params) {
  const out = {}
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== '' && v !== null && v !== undefined) out[k] = v
  }
  return out
}

/** For create requests: omits fields left empty. */
export function compact(obj) {
  return cleanParams(obj)
}

/** For update requests: empty strings become null (the field was cleared). */
export function nullifyEmpty(obj) {
  const out = {}
  for (const [k, v] of Object.entries(obj || {})) out[k] = v === '' ? null : v
  return out
}
