import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import api from '@/api/client'
import { setHospitalClock } from '@/utils/format'

/** The server's scheduling settings (GET /api/settings): time zone, hospital "now", booking horizon per role.
 *  Pages take dates and limits from here, never from the browser's clock, zone or their own constants. */
export const useHospitalStore = defineStore('hospital', () => {
  const settings = ref(null)
  let loading = null

  const horizon = computed(() => settings.value?.booking_horizon_days ?? null)
  const timezone = computed(() => settings.value?.timezone ?? null)

  function load() {
    loading ||= api.get('/settings').then(({ data }) => {
      settings.value = data
      setHospitalClock(data)
      return data
    }).catch((err) => {
      loading = null
      throw err
    })
    return loading
  }

  return { settings, horizon, timezone, load }
})
