using System.Net;

namespace FdrHarness.Rucio.Rest;

/// <summary>
/// Follows redirects (Rucio answers 303 on /accounts/whoami and 308 to add or drop a trailing slash) but never carries a
/// secret to another origin: X-Rucio-Auth-Token, the userpass headers and Authorization are dropped when the scheme, host
/// or port changes (issue 13). 303 (and 301/302 after a POST) become a GET without body, as browsers and HttpClient do.
/// </summary>
public sealed class SameOriginRedirectHandler(HttpMessageHandler inner, int maxRedirects = 5) : DelegatingHandler(inner)
{
    private static readonly string[] Secrets = ["X-Rucio-Auth-Token", "X-Rucio-Password", "X-Rucio-Username", "Authorization", "Cookie"];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var current = request;
        for (var hop = 0; hop < maxRedirects && IsRedirect(response.StatusCode) && response.Headers.Location is { } location; hop++)
        {
            var target = location.IsAbsoluteUri ? location : new Uri(current.RequestUri!, location);
            if (target.Scheme is not ("http" or "https")) break;
            var keepBody = response.StatusCode is HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect
                || (current.Method != HttpMethod.Post && response.StatusCode != HttpStatusCode.SeeOther);
            var next = new HttpRequestMessage(keepBody ? current.Method : HttpMethod.Get, target)
            {
                Version = current.Version,
                VersionPolicy = current.VersionPolicy,
                Content = keepBody ? current.Content : null,
            };
            var sameOrigin = Uri.Compare(current.RequestUri, target, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
            foreach (var (name, values) in current.Headers)
                if (sameOrigin || !Secrets.Contains(name, StringComparer.OrdinalIgnoreCase))
                    next.Headers.TryAddWithoutValidation(name, values);
            response.Dispose(); // the requests share the caller's content: the caller disposes it
            current = next;
            response = await base.SendAsync(current, cancellationToken).ConfigureAwait(false);
        }
        return response;
    }

    private static bool IsRedirect(HttpStatusCode s) => s is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
        or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;
}
