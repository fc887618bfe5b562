import api from './client'

/** A blob response that carries a JSON error is turned back into JSON so the error helper can read it. */
async function unwrapBlobError(err) {
  const data = err?.response?.data
  if (data instanceof Blob) {
    try {
      err.response.data = JSON.parse(await data.text())
    } catch {
      /* not JSON */
    }
  }
  return err
}

/** Strips a leading /api so download_url values given by the server go through the same client. */
export function apiPath(url) {
  if (!url) return url
  try {
    const u = new URL(url, window.location.origin)
    if (u.origin === window.location.origin) url = u.pathname + u.search
  } catch {
    /* relative */
  }
  return url.startsWith('/api/') ? url.slice(4) : url
}

function filenameFrom(res, fallback) {
  const cd = res.headers?.['content-disposition'] || ''
  const star = /filename\*=(?:UTF-8'')?([^;]+)/i.exec(cd)
  if (star) return decodeURIComponent(star[1].replace(/"/g, '').trim())
  const plain = /filename="?([^";]+)"?/i.exec(cd)
  return plain ? plain[1].trim() : fallback
}

/** GETs a file with the bearer token and returns {blob, filename}. */
export async function fetchBlob(url, { params, fallbackName = 'download' } = {}) {
  try {
    const res = await api.get(apiPath(url), { params, responseType: 'blob' })
    return { blob: res.data, filename: filenameFrom(res, fallbackName) }
  } catch (err) {
    throw await unwrapBlobError(err)
  }
}

/** Downloads a protected file (CSV, PDF, ICS) through the API client and saves it. */
export async function downloadFile(url, { params, fallbackName } = {}) {
  const { blob, filename } = await fetchBlob(url, { params, fallbackName })
  const href = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = href
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(href), 10_000)
  return filename
}
