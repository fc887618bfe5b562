import { beforeEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ConfirmDialog from '@/components/ConfirmDialog.vue'
import { confirmAction } from '@/stores/confirm'
import { flush, freshPinia } from './helpers'

function mountDialog() {
  document.body.innerHTML = ''
  return mount(ConfirmDialog, { attachTo: document.body })
}
const q = (sel) => document.body.querySelector(sel)

describe('ConfirmDialog', () => {
  beforeEach(() => freshPinia())

  it('"Back" resolves to false and closes', async () => {
    const w = mountDialog()
    const answer = confirmAction({ title: 'Block doctor', message: 'Block Dr A?' })
    await flush()
    expect(q('[data-testid="confirm-dialog"]').textContent).toContain('Block Dr A?')
    q('[data-testid="confirm-cancel"]').click()
    expect(await answer).toBe(false)
    await flush()
    expect(q('[data-testid="confirm-dialog"]')).toBeNull()
    w.unmount()
  })

  it('a required reason must be given before it confirms, and comes back trimmed', async () => {
    const w = mountDialog()
    let settled = null
    confirmAction({ title: 'Cancel', reason: true, reasonRequired: true }).then((r) => (settled = r))
    await flush()
    q('[data-testid="confirm-ok"]').click()
    await flush()
    expect(settled).toBeNull()
    expect(q('#confirm-reason-error').textContent).toBe('Please give a reason.')
    const box = q('[data-testid="confirm-reason"]')
    box.value = '  Plans changed '
    box.dispatchEvent(new Event('input'))
    q('[data-testid="confirm-ok"]').click()
    await flush()
    expect(settled).toEqual({ reason: 'Plans changed' })
    w.unmount()
  })

  it('with choices, resolves to the choice clicked', async () => {
    const w = mountDialog()
    const answer = confirmAction({ title: 'Visits ahead', items: ['1 Jan 09:00 – P'], choices: [{ value: 'keep', text: 'Keep' }, { value: 'cancel', text: 'Cancel them' }] })
    await flush()
    expect(q('[data-testid="confirm-items"]').textContent).toContain('1 Jan 09:00')
    expect(q('[data-testid="confirm-ok"]')).toBeNull()
    q('[data-testid="confirm-choice-cancel"]').click()
    expect(await answer).toEqual({ reason: '', choice: 'cancel' })
    w.unmount()
  })
})
