/* net/github: placeholder until the driver lands. */
#include "net/net.h"

static struct net_request *github_begin(const struct net_account *acct, json_t *state, char **error)
{
    (void)acct;
    (void)state;
    *error = g_strdup("the github driver is not available yet");
    return NULL;
}

static void github_handle(const struct net_account *acct, json_t *state, const struct net_request *req,
                        const struct net_response *resp, struct net_result *out)
{
    (void)acct;
    (void)state;
    (void)req;
    (void)resp;
    net_result_fail(out, NET_FATAL, "not implemented");
}

const struct net_driver net_github_driver = {
    .name = "github",
    .needs_secret = true,
    .begin = github_begin,
    .handle = github_handle,
};
