using System.Collections;
using System.Globalization;
using System.Text.Json;
using Fluid.Values;

namespace Clientele.Templates;

/// <summary>
/// The model as Liquid sees it. Each object is a dictionary whose fields are looked up by name with a switch and made
/// on demand, so no .NET member of any type is ever reachable from a template (no reflection, nothing to escape to),
/// and a render pays only for the fields its template reads.
/// </summary>
internal static class LiquidModel
{
    /// <summary>The root of one render: <c>contact</c>, <c>business</c>, <c>links</c>, <c>order</c>, <c>offer</c>, <c>referral</c>,
    /// <c>recommendations</c>, <c>data</c> and <c>now</c>.</summary>
    public static FluidValue Root(MessageModel model, FluidValue business, TimeZoneInfo zone) =>
        new DictionaryValue(new MessageFields(model, business, zone));

    /// <summary>The brand's public face, made once per compiled template and shared by its renders.</summary>
    public static FluidValue Business(Brand brand) =>
        new DictionaryValue(new FluidValueDictionaryFluidIndexable(new Dictionary<string, FluidValue>(StringComparer.Ordinal)
        {
            ["name"] = Text(brand.BusinessName),
            ["address"] = Text(brand.PostalAddress),
            ["website"] = Text(Brand.IsWebUrl(brand.WebsiteUrl) ? brand.WebsiteUrl : null),
            ["logo_url"] = Text(Brand.IsWebUrl(brand.LogoUrl) ? brand.LogoUrl : null),
        }));

    public static FluidValue Text(string? value) => value is null ? NilValue.Instance : new StringValue(value);

    public static FluidValue Number(decimal value) => NumberValue.Create(value);

    /// <summary>An instant, shown in the contact's zone.</summary>
    public static FluidValue Instant(DateTimeOffset value, TimeZoneInfo zone) => new DateTimeValue(TimeZoneInfo.ConvertTime(value, zone));

    public static FluidValue Instant(DateTimeOffset? value, TimeZoneInfo zone) => value is { } v ? Instant(v, zone) : NilValue.Instance;

    /// <summary>A calendar day: midnight of that day in the contact's zone, so date filters show the same day.</summary>
    public static FluidValue Day(DateOnly day, TimeZoneInfo zone)
    {
        var midnight = day.ToDateTime(TimeOnly.MinValue);
        return new DateTimeValue(new DateTimeOffset(midnight, zone.GetUtcOffset(midnight)));
    }

    /// <summary>The next time the birthday comes round, today included (29 February falls on 28 February in other years).</summary>
    public static DateOnly NextBirthday(DateOnly birthday, DateOnly today)
    {
        static DateOnly In(int year, DateOnly b) => new(year, b.Month, Math.Min(b.Day, DateTime.DaysInMonth(year, b.Month)));
        var next = In(today.Year, birthday);
        return next >= today ? next : In(today.Year + 1, birthday);
    }

    public static FluidValue Json(JsonElement element, TimeZoneInfo zone) => element.ValueKind switch
    {
        JsonValueKind.String => new StringValue(element.GetString()!),
        JsonValueKind.Number => element.TryGetDecimal(out var d) ? NumberValue.Create(d) : NumberValue.Create((decimal)Math.Clamp(element.GetDouble(), (double)decimal.MinValue, (double)decimal.MaxValue)),
        JsonValueKind.True => BooleanValue.True,
        JsonValueKind.False => BooleanValue.False,
        JsonValueKind.Object => new DictionaryValue(new JsonObjectFields(element, zone)),
        JsonValueKind.Array => new ArrayValue(element.EnumerateArray().Select(e => Json(e, zone)).ToArray()),
        _ => NilValue.Instance,
    };

    /// <summary>A caller's value: the plain types a model holds. Anything else is shown by its invariant text, never
    /// opened up.</summary>
    public static FluidValue Value(object? value, TimeZoneInfo zone) => value switch
    {
        null => NilValue.Instance,
        FluidValue v => v,
        string s => new StringValue(s),
        bool b => BooleanValue.Create(b),
        int i => NumberValue.Create(i),
        long l => NumberValue.Create(l),
        decimal m => NumberValue.Create(m),
        double d => NumberValue.Create((decimal)Math.Clamp(d, (double)decimal.MinValue, (double)decimal.MaxValue)),
        float f => NumberValue.Create((decimal)Math.Clamp(f, (float)decimal.MinValue, (float)decimal.MaxValue)),
        DateTimeOffset t => Instant(t, zone),
        DateTime t => Instant(new DateTimeOffset(DateTime.SpecifyKind(t, t.Kind == DateTimeKind.Local ? DateTimeKind.Local : DateTimeKind.Utc)), zone),
        DateOnly d => Day(d, zone),
        JsonElement e => Json(e, zone),
        IReadOnlyDictionary<string, object?> map => new DictionaryValue(new ObjectFields(map, zone)),
        IEnumerable<string> strings => new ArrayValue(strings.Select(Text).ToArray()),
        IEnumerable items => new ArrayValue(items.Cast<object?>().Select(i => Value(i, zone)).ToArray()),
        IFormattable f => new StringValue(f.ToString(null, CultureInfo.InvariantCulture)),
        _ => new StringValue(value.ToString() ?? ""),
    };

    /// <summary>A dictionary whose fields are made when asked for.</summary>
    private abstract class Fields(string[] keys) : IFluidIndexable
    {
        public int Count => keys.Length;

        public IEnumerable<string> Keys => keys;

        public bool TryGetValue(string name, out FluidValue value)
        {
            var found = Get(name);
            value = found ?? NilValue.Instance;
            return found is not null;
        }

        /// <summary>The field, or null when there is no such name.</summary>
        protected abstract FluidValue? Get(string name);
    }

    private sealed class MessageFields(MessageModel model, FluidValue business, TimeZoneInfo zone)
        : Fields(["contact", "business", "links", "order", "offer", "referral", "recommendations", "survey", "review", "data", "now"])
    {
        private FluidValue? _contact;
        private FluidValue? _links;
        private FluidValue? _order;
        private FluidValue? _recommendations;

        protected override FluidValue? Get(string name) => name switch
        {
            "contact" => _contact ??= new DictionaryValue(new ContactFields(model.Contact, zone, model.Now)),
            "business" => business,
            "links" => _links ??= new DictionaryValue(new LinkFields(model.Links)),
            "order" => model.Order is { } o ? _order ??= new DictionaryValue(new OrderFields(o, zone)) : NilValue.Instance,
            "offer" => model.Offer is { } f ? new DictionaryValue(new OfferFields(f, zone)) : NilValue.Instance,
            "referral" => model.Referral is { } r ? new DictionaryValue(new ReferralFields(r)) : NilValue.Instance,
            "recommendations" => _recommendations ??= new ArrayValue(model.Recommendations.Select(r => (FluidValue)new DictionaryValue(new RecommendationFields(r))).ToArray()),
            "survey" => model.Survey is { } q ? new DictionaryValue(new SurveyFields(q)) : NilValue.Instance,
            "review" => model.Review is { } r ? new DictionaryValue(new ReviewFields(r)) : NilValue.Instance,
            "data" => model.Data is { } d ? new DictionaryValue(new ObjectFields(d, zone)) : NilValue.Instance,
            "now" => Instant(model.Now, zone),
            _ => null,
        };
    }

    private sealed class ContactFields(MessageContact c, TimeZoneInfo zone, DateTimeOffset now)
        : Fields(["id", "email", "first_name", "last_name", "name", "phone", "birthday", "next_birthday", "time_zone", "locale", "stage", "score", "tags", "attributes", "created_at"])
    {
        private FluidValue? _attributes;

        protected override FluidValue? Get(string name) => name switch
        {
            "id" => new StringValue(c.Id.ToString()),
            "email" => Text(c.Email),
            "first_name" => Text(c.FirstName),
            "last_name" => Text(c.LastName),
            "name" => Text(c.Name),
            "phone" => Text(c.Phone),
            "birthday" => c.Birthday is { } b ? Day(b, zone) : NilValue.Instance,
            "next_birthday" => c.Birthday is { } b ? Day(NextBirthday(b, DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime)), zone) : NilValue.Instance,
            "time_zone" => new StringValue(zone.Id),
            "locale" => Text(c.Locale),
            "stage" => Text(c.Stage),
            "score" => NumberValue.Create(c.Score),
            "tags" => new ArrayValue(c.Tags.Select(Text).ToArray()),
            "attributes" => _attributes ??= new DictionaryValue(new AttributeFields(c.Attributes, zone)),
            "created_at" => Instant(c.CreatedAt, zone),
            _ => null,
        };
    }

    private sealed class LinkFields(MessageLinks links) : Fields(["unsubscribe", "preferences", "view_online"])
    {
        protected override FluidValue? Get(string name) => name switch
        {
            "unsubscribe" => Text(links.Unsubscribe),
            "preferences" => Text(links.Preferences),
            "view_online" => Text(links.ViewOnline),
            _ => null,
        };
    }

    private sealed class OrderFields(MessageOrder order, TimeZoneInfo zone) : Fields(["id", "number", "total", "currency", "placed_at", "items", "item_count"])
    {
        protected override FluidValue? Get(string name) => name switch
        {
            "id" => Text(order.Id),
            "number" => Text(order.Number ?? order.Id),
            "total" => Number(order.Total),
            "currency" => Text(order.Currency),
            "placed_at" => Instant(order.PlacedAt, zone),
            "items" => new ArrayValue(order.Items.Select(i => (FluidValue)new DictionaryValue(new ItemFields(i))).ToArray()),
            "item_count" => Number(order.Items.Sum(i => i.Quantity)),
            _ => null,
        };
    }

    private sealed class ItemFields(MessageOrderItem item) : Fields(["sku", "name", "category", "quantity", "price", "total"])
    {
        protected override FluidValue? Get(string name) => name switch
        {
            "sku" => Text(item.Sku),
            "name" => Text(item.Name ?? item.Sku),
            "category" => Text(item.Category),
            "quantity" => Number(item.Quantity),
            "price" => Number(item.Price),
            "total" => Number(item.Price * item.Quantity),
            _ => null,
        };
    }

    private sealed class OfferFields(MessageOffer offer, TimeZoneInfo zone) : Fields(["code", "title", "description", "discount", "expires_at"])
    {
        protected override FluidValue? Get(string name) => name switch
        {
            "code" => Text(offer.Code),
            "title" => Text(offer.Title),
            "description" => Text(offer.Description),
            "discount" => Text(offer.Discount),
            "expires_at" => Instant(offer.ExpiresAt, zone),
            _ => null,
        };
    }

    private sealed class ReferralFields(MessageReferral referral) : Fields(["code", "link"])
    {
        protected override FluidValue? Get(string name) => name switch
        {
            "code" => Text(referral.Code),
            "link" => Text(referral.Link),
            _ => null,
        };
    }

    private sealed class SurveyFields(MessageSurvey survey) : Fields(["question", "kind", "links"])
    {
        protected override FluidValue? Get(string name) => name switch
        {
            "question" => Text(survey.Question),
            "kind" => Text(survey.Kind),
            "links" => new ArrayValue(survey.Links.Select(l => (FluidValue)new DictionaryValue(new ScoreLinkFields(l.Score, l.Url))).ToArray()),
            _ => null,
        };
    }

    private sealed class ReviewFields(MessageReview review) : Fields(["link"])
    {
        protected override FluidValue? Get(string name) => name switch
        {
            "link" => Text(review.Link),
            _ => null,
        };
    }

    private sealed class ScoreLinkFields(int score, string url) : Fields(["score", "url"])
    {
        protected override FluidValue? Get(string name) => name switch
        {
            "score" => Number(score),
            "url" => Text(url),
            _ => null,
        };
    }

    private sealed class RecommendationFields(MessageRecommendation r) : Fields(["sku", "name", "price", "currency", "url", "image_url"])
    {
        protected override FluidValue? Get(string name) => name switch
        {
            "sku" => Text(r.Sku),
            "name" => Text(r.Name ?? r.Sku),
            "price" => Number(r.Price),
            "currency" => Text(r.Currency),
            "url" => Text(r.Url),
            "image_url" => Text(r.ImageUrl),
            _ => null,
        };
    }

    private sealed class AttributeFields(IReadOnlyDictionary<string, JsonElement> attributes, TimeZoneInfo zone) : IFluidIndexable
    {
        public int Count => attributes.Count;

        public IEnumerable<string> Keys => attributes.Keys;

        public bool TryGetValue(string name, out FluidValue value)
        {
            if (attributes.TryGetValue(name, out var element))
            {
                value = Json(element, zone);
                return true;
            }
            value = NilValue.Instance;
            return false;
        }
    }

    private sealed class JsonObjectFields(JsonElement element, TimeZoneInfo zone) : IFluidIndexable
    {
        public int Count => element.EnumerateObject().Count();

        public IEnumerable<string> Keys => element.EnumerateObject().Select(p => p.Name);

        public bool TryGetValue(string name, out FluidValue value)
        {
            if (element.TryGetProperty(name, out var property))
            {
                value = Json(property, zone);
                return true;
            }
            value = NilValue.Instance;
            return false;
        }
    }

    private sealed class ObjectFields(IReadOnlyDictionary<string, object?> values, TimeZoneInfo zone) : IFluidIndexable
    {
        public int Count => values.Count;

        public IEnumerable<string> Keys => values.Keys;

        public bool TryGetValue(string name, out FluidValue value)
        {
            if (values.TryGetValue(name, out var v))
            {
                value = Value(v, zone);
                return true;
            }
            value = NilValue.Instance;
            return false;
        }
    }
}
