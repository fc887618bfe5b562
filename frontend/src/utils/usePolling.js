import { onBeforeUnmount } from 'vue'

/** Calls `tick` every `ms` until it returns true (finished) or the component unmounts. */
export function usePolling(ms = 2000) {
  const timers = new Set()
  function poll(tick) {
    const id = setInterval(async () => {
      let done = true
      try {
        done = await tick()
      } catch {
        done = true
      }
      if (done) {
        clearInterval(id)
        timers.delete(id)
      }
    }, ms)
    timers.add(id)
    return () => {
      clearInterval(id)
      timers.delete(id)
    }
  }
  onBeforeUnmount(() => timers.forEach((id) => clearInterval(id)))
  return { poll }
}
