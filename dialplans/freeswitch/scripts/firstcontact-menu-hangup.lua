-- FirstContact: posts a menu-hangup IVR event (the caller hung up in the hotline menu).
-- Copy to /usr/share/freeswitch/scripts/; dialplan/hotline.xml sets it as the api_hangup_hook
-- while the caller is in the menu:  lua firstcontact-menu-hangup.lua <caller> <uuid>
local caller, call = argv[1] or "", argv[2] or ""
-- Hang-up time in UTC, written with Z: no zone guessing on the service's side.
local at = os.date("!%Y-%m-%dT%H:%M:%SZ")
local event = string.format(
  '<ivr-event xmlns="urn:firstcontact:ivr-events:1" kind="menu-hangup" at="%s" caller="%s" call="%s"/>',
  at, caller:gsub("[^%d+]", ""), call:gsub("[^%w%-]", ""))
-- The curl API splits its arguments at spaces and URL-decodes the post data.
local body = event:gsub("%%", "%%25"):gsub(" ", "%%20"):gsub('"', "%%22")
local url = "http://pbx:change-me-pbx-token@127.0.0.1:8080/v1/ingest/ivr-events"
local answer = freeswitch.API():execute("curl", url .. " content-type application/xml post " .. body)
freeswitch.consoleLog("info", "FirstContact menu-hangup " .. call .. ": " .. tostring(answer) .. "\n")
