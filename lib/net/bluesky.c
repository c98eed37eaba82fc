/* net/bluesky: placeholder until the driver lands. */
#include "net/net.h"

static struct net_request *bluesky_begin(const struct net_account *acct, json_t *state, char **error)
{
    (void)acct;
    (void)state;
    *error = g_strdup("the bluesky driver is not available yet");
    return NULL;
}

static void bluesky_handle(const struct net_account *acct, json_t *state, const struct net_request *req,
                        const struct net_response *resp, struct net_result *out)
{
    (void)acct;
    (void)state;
    (void)req;
    (void)resp;
    net_result_fail(out, NET_FATAL, "not implemented");
}

const struct net_driver net_bluesky_driver = {
    .name = "bluesky",
    .needs_secret = true,
    .begin = bluesky_begin,
    .handle = bluesky_handle,
};
