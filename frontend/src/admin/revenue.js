import { palette } from '@/components/palette'
import { shortDate } from '@/utils/format'

/** The billing summary's days as a bar chart: money invoiced and collected (major units, for the axis). */
export function revenueChart(summary) {
  const days = summary?.by_day || []
  const series = (key, label, colour) => ({ label, data: days.map((d) => d[key] / 100), backgroundColor: colour })
  return {
    labels: days.map((d) => shortDate(d.date)),
    datasets: [series('invoiced_minor', 'Invoiced', palette[0]), series('collected_minor', 'Collected', palette[1])],
  }
}
