import { beforeEach, describe, expect, it, vi } from 'vitest'
import { useRowAction } from '@/utils/useRowAction'
import { useFormState } from '@/utils/useFormState'
import { useToastStore } from '@/stores/toasts'
import { apiError, deferred, freshPinia } from './helpers'

describe('useRowAction', () => {
  beforeEach(() => freshPinia())

  it('marks the row busy while the action runs and toasts what it returns', async () => {
    const { busy, run } = useRowAction()
    const gate = deferred()
    const done = run({ id: 7 }, async () => {
      await gate.promise
      return 'Done.'
    })
    expect(busy.value).toBe(7)
    gate.resolve()
    expect(await done).toBe('Done.')
    expect(busy.value).toBeNull()
    expect(useToastStore().items.map((t) => [t.type, t.message])).toEqual([['success', 'Done.']])
  })

  it('a failure is shown as the API error, resolves to null and frees the row', async () => {
    const { busy, run } = useRowAction()
    const out = await run({ id: 3 }, () => Promise.reject(apiError(409, 'slot_taken', 'Taken')))
    expect(out).toBeNull()
    expect(busy.value).toBeNull()
    expect(useToastStore().items.map((t) => t.type)).toEqual(['error'])
  })

  it('an action that backs out (null) toasts nothing', async () => {
    const { run } = useRowAction()
    expect(await run({ id: 1 }, async () => null)).toBeNull()
    expect(useToastStore().items).toEqual([])
  })
})

describe('useFormState', () => {
  beforeEach(() => freshPinia())

  it('problems found in the browser stop the send', async () => {
    const { errors, submit } = useFormState()
    const send = vi.fn()
    expect(await submit(() => ({ email: 'Bad.' }), send)).toBe(false)
    expect(send).not.toHaveBeenCalled()
    expect(errors.value).toEqual({ email: 'Bad.' })
  })

  it("the server's field errors land beside the fields; saving is true only while sending", async () => {
    const { errors, saving, submit } = useFormState()
    const gate = deferred()
    const result = submit(() => ({}), () => gate.promise)
    expect(saving.value).toBe(true)
    gate.reject(apiError(422, 'validation_error', 'Invalid', { email: ['Already used.'] }))
    expect(await result).toBe(false)
    expect(saving.value).toBe(false)
    expect(errors.value.email).toBeTruthy()
    expect(await submit(() => ({}), async () => {})).toBe(true)
    expect(errors.value).toEqual({})
  })
})
