// Public surface of mqtt/: the MQTT bridge and Home Assistant discovery (integration.md §3–4).
export { defaultTopicPrefix, startMqttBridge, type BridgeDeps, type BridgeEvse, type MqttBridge, type MqttStats } from "./bridge.ts";
export { bridgeEvse } from "./wiring.ts";
