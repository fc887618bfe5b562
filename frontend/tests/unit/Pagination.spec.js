import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import Pagination from '@/components/Pagination.vue'

const pager = (page, total, perPage = 10) => mount(Pagination, { props: { page, total, perPage } })

describe('Pagination', () => {
  it('says which rows are shown and marks the current page', () => {
    const w = pager(2, 35)
    expect(w.text()).toContain('Showing 11–20 of 35')
    expect(w.find('[aria-current="page"]').text()).toBe('2')
  })

  it('emits the page asked for, but not beyond the ends nor the current page', async () => {
    const w = pager(1, 35)
    await w.find('[data-testid="page-prev"]').trigger('click')
    await w.find('[data-testid="page-1"]').trigger('click')
    await w.find('[data-testid="page-next"]').trigger('click')
    await w.find('[data-testid="page-4"]').trigger('click')
    expect(w.emitted('change')).toEqual([[2], [4]])
    const last = pager(4, 35)
    await last.find('[data-testid="page-next"]').trigger('click')
    expect(last.emitted('change')).toBeUndefined()
  })

  it('elides far pages and hides itself when there is nothing', () => {
    const w = pager(10, 200)
    const labels = w.findAll('.page-item').map((li) => li.text())
    expect(labels).toEqual(['', '1', '…', '9', '10', '11', '…', '20', ''])
    expect(pager(1, 0).find('[data-testid="pagination"]').exists()).toBe(false)
    expect(pager(1, 5).find('.pagination').exists()).toBe(false) // one page: the count, no buttons
  })
})
