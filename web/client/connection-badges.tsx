/** @jsxImportSource preact */
// The header's connection badges: MQTT and OCPP, each only when configured.
import { mqttBadge, ocppBadge, type Badge } from "./connection-words.ts";
import { useMqtt, useOcpp } from "./use-connections.ts";

function BadgeView({ badge, name }: { badge: Badge | null; name: string }) {
  if (!badge) return null;
  return (
    <span class={`health conn ${badge.tone}`} title={badge.title} {...{ [`data-${name}`]: true }}>
      {badge.text}
    </span>
  );
}

export function ConnectionBadges() {
  const mqtt = useMqtt();
  const ocpp = useOcpp();
  return (
    <>
      <BadgeView badge={ocppBadge(ocpp?.connection ?? null)} name="ocpp" />
      <BadgeView badge={mqttBadge(mqtt)} name="mqtt" />
    </>
  );
}
