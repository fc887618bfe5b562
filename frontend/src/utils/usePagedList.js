import { ref } from 'vue'
import { asPage } from '@/api/lists'
import { handleApiError } from '@/api/errors'

/** State for one paginated list: `fetcher({page, per_page})` returns the response body. */
export function usePagedList(fetcher, { perPage = 20 } = {}) {
  const items = ref([])
  const total = ref(0)
  const page = ref(1)
  const per = ref(perPage)
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref(null)

  async function load(p = page.value) {
    loading.value = true
    error.value = null
    try {
      const data = asPage(await fetcher({ page: p, per_page: per.value }), { page: p, per_page: per.value })
      items.value = data.items
      total.value = data.total
      page.value = data.page
      loaded.value = true
    } catch (err) {
      error.value = handleApiError(err)
    } finally {
      loading.value = false
    }
  }

  return { items, total, page, perPage: per, loading, loaded, error, load }
}
