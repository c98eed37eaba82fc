/* net/x: placeholder until the driver lands. */
#include "net/net.h"

static struct net_request *x_begin(const struct net_account *acct, json_t *state, char **error)
{
    (void)acct;
    (void)state;
    *error = g_strdup("the x driver is not available yet");
    return NULL;
}

static void x_handle(const struct net_account *acct, json_t *state, const struct net_request *req,
                        const struct net_response *resp, struct net_result *out)
{
    (void)acct;
    (void)state;
    (void)req;
    (void)resp;
    net_result_fail(out, NET_FATAL, "not implemented");
}

const struct net_driver net_x_driver = {
    .name = "x",
    .needs_secret = true,
    .begin = x_begin,
    .handle = x_handle,
};
