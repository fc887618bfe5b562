import { defineStore } from 'pinia'
import { ref } from 'vue'

let nextId = 1

/**
 * Transient messages shown in the corner: success, error, info. A toast's time runs only while nobody holds it:
 * pointing at it or moving the focus into it pauses its clock (WCAG 2.2.1, enough time to read), and leaving it
 * gives back the time it had left.
 */
export const useToastStore = defineStore('toasts', () => {
  const items = ref([])
  const clocks = new Map() // id -> { handle, left, since, holds: Set of 'hover' | 'focus' }

  function dismiss(id) {
    const clock = clocks.get(id)
    if (clock) clearTimeout(clock.handle)
    clocks.delete(id)
    items.value = items.value.filter((t) => t.id !== id)
  }
  function run(id) {
    const clock = clocks.get(id)
    clock.since = Date.now()
    clock.handle = setTimeout(() => dismiss(id), clock.left)
  }
  /** Stop a toast's clock while it is held (reason: 'hover' or 'focus'). */
  function hold(id, reason) {
    const clock = clocks.get(id)
    if (!clock) return
    if (!clock.holds.size) {
      clearTimeout(clock.handle)
      clock.left = Math.max(clock.left - (Date.now() - clock.since), 0)
    }
    clock.holds.add(reason)
  }
  /** Let a toast's clock run again once nothing holds it; at least a second and a half to see it go. */
  function release(id, reason) {
    const clock = clocks.get(id)
    if (!clock || !clock.holds.delete(reason) || clock.holds.size) return
    clock.left = Math.max(clock.left, 1500)
    run(id)
  }
  function push(type, message, timeout) {
    const id = nextId++
    items.value.push({ id, type, message })
    if (items.value.length > 5) dismiss(items.value[0].id)
    if (timeout) {
      clocks.set(id, { handle: null, left: timeout, since: Date.now(), holds: new Set() })
      run(id)
    }
    return id
  }
  /** A success ends the story of an earlier failure: its error toasts go. */
  function success(message) {
    for (const t of items.value.filter((t) => t.type === 'error')) dismiss(t.id)
    return push('success', message, 4500)
  }
  const error = (message) => push('error', message, 8000)
  const info = (message) => push('info', message, 5000)

  return { items, push, success, error, info, dismiss, hold, release }
})
