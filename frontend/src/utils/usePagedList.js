import { computed, ref } from 'vue'
import { asPage } from '@/api/lists'
import { handleApiError } from '@/api/errors'

/**
 * State for one paginated, filtered list; every list page and `DataTable` share it, so a fix to paging, stale
 * answers or empty states is made once. `fetcher({...filters, page, per_page})` returns the response body (paged
 * or a bare array). `filters` (optional, a reactive object) is sent with every request; `reset()` empties it.
 */
export function usePagedList(fetcher, { perPage = 20, filters = null } = {}) {
  const items = ref([])
  const total = ref(0)
  const page = ref(1)
  const per = ref(perPage)
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref(null)
  // Only the newest request may fill the list: a slow answer to an older filter must not overwrite a newer one.
  let latest = 0

  async function load(p = page.value) {
    const ticket = ++latest
    loading.value = true
    error.value = null
    try {
      const params = { ...(filters || {}), page: p, per_page: per.value }
      const data = asPage(await fetcher(params), { page: p, per_page: per.value })
      if (ticket !== latest) return
      const last = Math.max(1, Math.ceil(data.total / Math.max(1, per.value)))
      // The last row of the last page was removed (deleted, cancelled, left): show the page that now is last.
      if (!data.items.length && data.total > 0 && p > last) {
        return load(last)
      }
      items.value = data.items
      total.value = data.total
      page.value = data.page
      loaded.value = true
    } catch (err) {
      if (ticket !== latest) return
      error.value = handleApiError(err)
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  /** Filters changed: back to the first page. */
  const search = () => load(1)
  /** After a change to one row: the same page again. */
  const reload = () => load(page.value)
  /** Every filter emptied ("Clear"), and the first page. */
  function reset() {
    if (filters) for (const k of Object.keys(filters)) filters[k] = ''
    return load(1)
  }
  const empty = computed(() => loaded.value && !items.value.length)

  return { items, total, page, perPage: per, loading, loaded, error, empty, load, search, reload, reset, filters }
}
