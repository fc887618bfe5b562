import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import FilterCard from '@/components/FilterCard.vue'

describe('FilterCard', () => {
  it('Enter (submit) applies, "Clear" clears, and the fields sit before the buttons', async () => {
    const w = mount(FilterCard, { props: { testid: 'audit-filters', applyTestid: 'audit-apply', applyText: 'Apply' }, slots: { default: '<div class="col"><input id="f" /></div>' } })
    await w.find('form').trigger('submit')
    await w.find('[data-testid="audit-filters-clear"]').trigger('click')
    expect(Object.keys(w.emitted())).toEqual(expect.arrayContaining(['apply', 'clear']))
    expect(w.emitted('apply')).toHaveLength(1)
    expect(w.emitted('clear')).toHaveLength(1)
    const order = w.findAll('input, button').map((el) => el.attributes('id') || el.attributes('data-testid'))
    expect(order).toEqual(['f', 'audit-filters-clear', 'audit-apply'])
    expect(w.find('[data-testid="audit-apply"]').attributes('type')).toBe('submit')
  })
})
