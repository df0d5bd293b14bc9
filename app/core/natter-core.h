/* natter-core.h: the whole client core in one include. */
#pragma once

#include "natter-core-enums.h"
#include "natter-user.h"
#include "natter-message.h"
#include "natter-message-file.h"
#include "natter-file-transfer.h"
#include "natter-room.h"
#include "natter-room-entry.h"
#include "natter-conversation.h"
#include "natter-client.h"
#include "natter-device-session.h"
#include "natter-secret.h"
#include "natter-search-match.h"
#include "natter-server-address.h"
