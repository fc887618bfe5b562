import { beforeEach, describe, expect, it, vi } from 'vitest'
import { reactive } from 'vue'
import { usePagedList } from '@/utils/usePagedList'
import { useToastStore } from '@/stores/toasts'
import { apiError, deferred, freshPinia } from './helpers'

const page = (items, total, p = 1, per = 20) => ({ items, total, page: p, per_page: per })

describe('usePagedList', () => {
  beforeEach(() => freshPinia())

  it('sends the filters with the page and per_page, and keeps the answer', async () => {
    const filters = reactive({ q: 'asha', department_id: '' })
    const fetcher = vi.fn().mockResolvedValue(page([{ id: 1 }, { id: 2 }], 42, 2))
    const list = usePagedList(fetcher, { perPage: 20, filters })
    await list.load(2)
    expect(fetcher).toHaveBeenCalledWith({ q: 'asha', department_id: '', page: 2, per_page: 20 })
    expect(list.items.value.map((r) => r.id)).toEqual([1, 2])
    expect([list.total.value, list.page.value, list.loaded.value, list.loading.value]).toEqual([42, 2, true, false])
  })

  it('search() goes back to page 1 and reload() stays on the page shown', async () => {
    const fetcher = vi.fn(async ({ page: p }) => page([{ id: p }], 100, p))
    const list = usePagedList(fetcher)
    await list.load(3)
    await list.reload()
    expect(fetcher).toHaveBeenLastCalledWith({ page: 3, per_page: 20 })
    await list.search()
    expect(fetcher).toHaveBeenLastCalledWith({ page: 1, per_page: 20 })
    expect(list.page.value).toBe(1)
  })

  it('reset() empties every filter and loads the first page', async () => {
    const filters = reactive({ date_from: '2026-01-01', status: 'booked' })
    const fetcher = vi.fn().mockResolvedValue(page([], 0))
    const list = usePagedList(fetcher, { filters })
    await list.reset()
    expect({ ...filters }).toEqual({ date_from: '', status: '' })
    expect(fetcher).toHaveBeenLastCalledWith({ date_from: '', status: '', page: 1, per_page: 20 })
  })

  it('an older answer arriving last does not overwrite the newer one', async () => {
    const slow = deferred()
    const fast = deferred()
    const fetcher = vi.fn().mockReturnValueOnce(slow.promise).mockReturnValueOnce(fast.promise)
    const list = usePagedList(fetcher)
    const first = list.load(1)
    const second = list.load(1)
    fast.resolve(page([{ id: 'new' }], 1))
    await second
    expect(list.loading.value).toBe(false)
    slow.resolve(page([{ id: 'old' }], 1))
    await first
    expect(list.items.value).toEqual([{ id: 'new' }])
    expect(list.loading.value).toBe(false)
  })

  it('when the last row of the last page went away, shows the page that is now last', async () => {
    const fetcher = vi.fn(async ({ page: p }) => (p === 3 ? page([], 40, 3) : page([{ id: 'p2' }], 40, p)))
    const list = usePagedList(fetcher)
    await list.load(3)
    expect(fetcher).toHaveBeenLastCalledWith({ page: 2, per_page: 20 })
    expect([list.page.value, list.items.value.length]).toEqual([2, 1])
  })

  it('a failed request keeps the error (shown once as a toast) and stops loading', async () => {
    const list = usePagedList(vi.fn().mockRejectedValue(apiError(403, 'forbidden', 'You may not.')))
    await list.load(1)
    expect(list.error.value.code).toBe('forbidden')
    expect(list.loading.value).toBe(false)
    expect(list.empty.value).toBe(false)
    expect(useToastStore().items.map((t) => t.type)).toEqual(['error'])
  })

  it('accepts a bare array and says when the list is empty', async () => {
    const list = usePagedList(vi.fn().mockResolvedValue([]))
    expect(list.empty.value).toBe(false)
    await list.load(1)
    expect(list.empty.value).toBe(true)
  })
})
