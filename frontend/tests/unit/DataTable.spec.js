import { beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { h } from 'vue'
import DataTable from '@/components/DataTable.vue'
import { usePagedList } from '@/utils/usePagedList'
import { apiError, deferred, flush, freshPinia } from './helpers'

const rows = (n, from = 1) => Array.from({ length: n }, (_, i) => ({ id: from + i, name: `Row ${from + i}` }))

function mountTable(list, props = {}) {
  return mount(DataTable, {
    props: { list, columns: ['Name', { label: 'Actions', hidden: true }], rowTestid: 'thing-row', emptyTitle: 'No things', ...props },
    slots: { row: ({ row }) => [h('td', row.name), h('td', 'act')] },
    global: { stubs: { RouterLink: true } },
  })
}

describe('DataTable', () => {
  beforeEach(() => freshPinia())

  it('shows the spinner on the first load, then the rows with their test ids and the pager', async () => {
    const answer = deferred()
    const list = usePagedList(() => answer.promise, { perPage: 2 })
    const loading = list.load(1)
    const w = mountTable(list)
    await flush()
    expect(w.find('[data-testid="loading"]').exists()).toBe(true)
    expect(w.find('table').exists()).toBe(false)
    answer.resolve({ items: rows(2), total: 5, page: 1, per_page: 2 })
    await loading
    await flush()
    expect(w.find('[data-testid="loading"]').exists()).toBe(false)
    expect(w.findAll('tbody tr').map((r) => r.attributes('data-testid'))).toEqual(['thing-row-1', 'thing-row-2'])
    expect(w.findAll('th').map((t) => t.text())).toEqual(['Name', 'Actions'])
    expect(w.find('th .visually-hidden').text()).toBe('Actions')
    expect(w.find('[data-testid="pagination"]').text()).toContain('Showing 1–2 of 5')
  })

  it('the pager loads the page chosen', async () => {
    const fetcher = vi.fn(async ({ page }) => ({ items: rows(2, page * 2 - 1), total: 5, page, per_page: 2 }))
    const list = usePagedList(fetcher, { perPage: 2 })
    await list.load(1)
    const w = mountTable(list)
    await w.find('[data-testid="page-next"]').trigger('click')
    await flush()
    expect(fetcher).toHaveBeenLastCalledWith({ page: 2, per_page: 2 })
    expect(w.findAll('tbody tr').map((r) => r.attributes('data-testid'))).toEqual(['thing-row-3', 'thing-row-4'])
  })

  it('an empty list shows the empty state with its title and slot, and no pager', async () => {
    const list = usePagedList(async () => ({ items: [], total: 0 }))
    await list.load(1)
    const w = mount(DataTable, { props: { list, emptyTitle: 'No things', emptyMessage: 'Add one.' }, slots: { empty: '<a class="cta">Add</a>' } })
    expect(w.find('[data-testid="empty-state"]').text()).toContain('No things')
    expect(w.find('[data-testid="empty-state"]').text()).toContain('Add one.')
    expect(w.find('.cta').exists()).toBe(true)
    expect(w.find('[data-testid="pagination"]').exists()).toBe(false)
  })

  it('a failure shows the error, not "nothing here", and "Try again" reloads', async () => {
    const fetcher = vi.fn().mockRejectedValueOnce(apiError(500, 'internal_error', 'Boom')).mockResolvedValue({ items: rows(1), total: 1 })
    const list = usePagedList(fetcher)
    await list.load(1)
    const w = mountTable(list)
    expect(w.find('[data-testid="list-error"]').attributes('role')).toBe('alert')
    expect(w.find('[data-testid="empty-state"]').exists()).toBe(false)
    await w.find('[data-testid="list-retry"]').trigger('click')
    await flush()
    expect(fetcher).toHaveBeenCalledTimes(2)
    expect(w.find('[data-testid="list-error"]').exists()).toBe(false)
    expect(w.findAll('tbody tr')).toHaveLength(1)
  })

  it('a region label makes a wide table a focusable, named region', async () => {
    const list = usePagedList(async () => ({ items: rows(1), total: 1 }))
    await list.load(1)
    const region = mountTable(list, { regionLabel: 'Events' }).find('.table-responsive')
    expect([region.attributes('role'), region.attributes('tabindex'), region.attributes('aria-label')]).toEqual(['region', '0', 'Events'])
    const plain = mountTable(list).find('.table-responsive')
    expect(plain.attributes('role')).toBeUndefined()
  })

  it('the list layout renders each item through the item slot, and `rows` narrows what is shown', async () => {
    const list = usePagedList(async () => ({ items: rows(3), total: 3 }))
    await list.load(1)
    const w = mount(DataTable, {
      props: { list, layout: 'list', rowTestid: 'card', rows: list.items.value.filter((r) => r.id !== 2) },
      slots: { item: ({ row }) => h('div', { class: 'card' }, row.name) },
    })
    expect(w.find('table').exists()).toBe(false)
    expect(w.findAll('[data-testid^="card-"]').map((c) => c.text())).toEqual(['Row 1', 'Row 3'])
  })
})
