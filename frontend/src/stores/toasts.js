import { defineStore } from 'pinia'
import { ref } from 'vue'

let nextId = 1

/** Transient messages shown in the corner: success, error, info. */
export const useToastStore = defineStore('toasts', () => {
  const items = ref([])

  function dismiss(id) {
    items.value = items.value.filter((t) => t.id !== id)
  }
  function push(type, message, timeout) {
    const id = nextId++
    items.value.push({ id, type, message })
    if (items.value.length > 5) items.value.shift()
    if (timeout) setTimeout(() => dismiss(id), timeout)
    return id
  }
  /** A success ends the story of an earlier failure: its error toasts go. */
  function success(message) {
    items.value = items.value.filter((t) => t.type !== 'error')
    return push('success', message, 4500)
  }
  const error = (message) => push('error', message, 8000)
  const info = (message) => push('info', message, 5000)

  return { items, push, success, error, info, dismiss }
})
