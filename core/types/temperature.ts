// types/temperature.yaml at 2025.1.0.
import * as v from "valibot";

export const TemperatureSchema = v.strictObject({
  temperature: v.number(), // °C
  identification: v.optional(v.string()),
  location: v.optional(v.string()),
});
export type Temperature = v.InferOutput<typeof TemperatureSchema>;
