{{ config(materialized='table_in_passes') }}
-- The value segment and the named groups, one row per customer known on as_of_date:
-- docs/measures.md, "The segments".
with

-- The customers of this pass (every customer unless the model is built in passes over
-- customer buckets), and every customer for the percentile ranks below.
measures as {{ not_materialized() }} (
    select * from {{ ref('int_customers_measures_joined') }}
    where {{ in_customer_pass('customer_id') }}
),

population_measures as {{ not_materialized() }} (
    select * from {{ ref('int_customers_measures_joined') }}
),

segment_settings as (
    select * from {{ ref('int_segment_settings') }}
),

-- The same axes for the customers of this pass (axes) and for every customer (population_axes).
{% for axes, rows in [('axes', 'measures'), ('population_axes', 'population_measures')] %}
    {{ axes }} as {{ not_materialized() }} (
        select
            {{ rows }}.*,
            not {{ rows }}.is_prospect as is_buyer,
            case
                when {{ rows }}.clv_status = 'not_fitted' then {{ rows }}.historical_clv
                else {{ rows }}.predicted_clv
            end as segment_clv,
            case
                when {{ rows }}.clv_status = 'not_fitted' then 'historical_clv'
                else 'predicted_clv'
            end as segment_clv_measure,
            case
                when {{ rows }}.crv is null then null
                when {{ rows }}.realized_crv > 0 then 'realized'
                when {{ rows }}.referrals_made_count > 0 then 'referrals_made'
                else 'none'
            end as crv_evidence
        from {{ rows }}
    ),

{% endfor %}
-- Percentile ranks, each over the customers it ranks, taken on narrow rows and joined
-- back by customer (a window over the whole wide row would sort every column). Ranked
-- among every customer (population_axes); only the ranks of this pass's customers are
-- kept (qualify: after the window), so the joins below hold a pass's rows.
{% for measure in ['segment_clv', 'historical_clv', 'predicted_clv_if_alive'] %}
    {{ measure }}_ranks as (
        select
            customer_id,
            percent_rank() over (order by {{ measure }}) as {{ measure }}_percentile
        from population_axes
        where is_buyer and {{ measure }} is not null
        qualify {{ in_customer_pass('customer_id') }}
    ),

{% endfor %}
-- CRV and the referral evidence are ranked among the buyers with a referral record only.
-- A NULL ranks last, as DuckDB sorts it by default (Spark would sort it first).
referral_ranks as (
    select
        customer_id,
        percent_rank() over (order by crv nulls last) as crv_percentile,
        percent_rank() over (order by referral_rate_credible_multiple nulls last) as referral_evidence_percentile
    from population_axes
    where is_buyer and crv_evidence in ('realized', 'referrals_made')
    qualify {{ in_customer_pass('customer_id') }}
),

activity as (
    select
        population_axes.customer_id,
        population_axes.recent_net_revenue,
        population_axes.has_bought_in_window
        and coalesce(population_axes.probability_alive >= segment_settings.active_min_probability_alive, true)
            as is_active
    from population_axes
    cross join segment_settings
),

spend_ranks as (
    select
        customer_id,
        percent_rank() over (order by recent_net_revenue nulls last) as recent_spend_percentile
    from activity
    where is_active
    qualify {{ in_customer_pass('customer_id') }}
),

pass_activity as (
    select * from activity
    where {{ in_customer_pass('customer_id') }}
),

-- The ranks of this pass's customers side by side on narrow rows, then joined to the wide
-- rows once (several joins onto the wide rows would hold them in several hash tables).
-- Materialized: the windows over every customer finish before the wide rows are hashed
-- (at 1,000,000 customers in 10 passes the pass fits in 500MB this way, not otherwise).
pass_ranks as {{ materialized_hint() }} (
    select
        pass_activity.customer_id,
        {% for measure in ['segment_clv', 'historical_clv', 'predicted_clv_if_alive'] %}
            {{ measure }}_ranks.{{ measure }}_percentile,
        {% endfor %}
        referral_ranks.crv_percentile,
        referral_ranks.referral_evidence_percentile,
        pass_activity.is_active,
        spend_ranks.recent_spend_percentile
    from pass_activity
    {% for measure in ['segment_clv', 'historical_clv', 'predicted_clv_if_alive'] %}
        left join {{ measure }}_ranks
            on pass_activity.customer_id = {{ measure }}_ranks.customer_id
    {% endfor %}
    left join referral_ranks
        on pass_activity.customer_id = referral_ranks.customer_id
    left join spend_ranks
        on pass_activity.customer_id = spend_ranks.customer_id
),

ranked as (
    select
        axes.*,
        pass_ranks.* {{ star_exclude() }} (customer_id)  -- noqa: RF02
    from axes
    inner join pass_ranks
        on axes.customer_id = pass_ranks.customer_id
),

evidence as (
    select
        ranked.*,
        case
            when ranked.social_score >= segment_settings.high_social_score
                or ranked.social_score_percentile >= segment_settings.high_social_percentile
                then 'social_score'
            when ranked.forward_count >= segment_settings.email_advocate_min_forwards then 'email_forwards'
            when ranked.open_percentile >= segment_settings.email_advocate_percentile
                and ranked.click_percentile >= segment_settings.email_advocate_percentile
                then 'email_opens_and_clicks'
        end as social_evidence,
        ranked.is_buyer
        and coalesce(ranked.probability_alive < segment_settings.at_risk_max_probability_alive, false)
            as is_likely_departed,
        ranked.is_buyer
        and coalesce(ranked.predicted_clv_if_alive_percentile >= segment_settings.win_back_value_percentile, false)
            as is_worth_winning_back,
        coalesce(
            {{ day_diff('ranked.last_purchase_on', 'ranked.as_of_date') }} <= segment_settings.lapsing_window_days,
            false
        ) as has_bought_in_lapsing_window
    from ranked
    cross join segment_settings
),

flagged as (
    select
        evidence.*,
        coalesce(evidence.segment_clv_percentile >= segment_settings.high_clv_percentile, false) as is_high_clv,
        case
            when evidence.crv is null then null
            when evidence.is_prospect then coalesce(evidence.paying_referee_count, 0) > 0
            else coalesce(evidence.referral_evidence_percentile >= segment_settings.high_crv_percentile, false)
        end as is_high_crv,
        coalesce(evidence.social_evidence = 'social_score', false) as is_high_social,
        coalesce(evidence.social_evidence in ('email_forwards', 'email_opens_and_clicks'), false) as is_email_advocate,
        evidence.is_prospect and coalesce(evidence.paying_referee_count, 0) > 0 as is_prospect_with_referral_value,
        evidence.is_active
        and evidence.recent_spend_percentile < segment_settings.light_buyer_spend_percentile
        and coalesce(evidence.share_of_wallet >= segment_settings.loyal_share_of_wallet, false)
            as is_loyal_light_buyer,
        evidence.is_likely_departed and evidence.is_worth_winning_back and evidence.has_bought_in_lapsing_window
            as is_lapsing_high_value,
        evidence.is_likely_departed and evidence.is_worth_winning_back and not evidence.has_bought_in_lapsing_window
            as is_lapsed_high_value
    from evidence
    cross join segment_settings
),

final as (
    select
        flagged.*,
        case
            when flagged.is_prospect_with_referral_value then 'advocate'
            when flagged.is_prospect then 'prospect'
            when flagged.crv is null and flagged.is_high_clv then 'high_clv'
            when flagged.crv is null then 'low_clv'
            when flagged.is_high_clv and flagged.is_high_crv then 'champion'
            when flagged.is_high_clv then 'affluent'
            when flagged.is_high_crv then 'advocate'
            else 'miser'
        end as value_segment,
        case
            when flagged.is_prospect and not flagged.is_prospect_with_referral_value then 'prospect'
            when flagged.crv is null then 'clv_tiers_no_referrals_file'
            else 'clv_x_crv'
        end as segment_status,
        flagged.is_high_clv and flagged.social_evidence is not null as is_ambassador,
        case when flagged.is_high_clv then flagged.social_evidence end as ambassador_evidence,
        flagged.is_likely_departed and coalesce(flagged.is_high_crv, false) as is_departed_referrer,
        case
            when not flagged.is_loyal_light_buyer then false
            when flagged.email_engagement_status = 'no_email_events_file' then null
            else flagged.email_engagement_status = 'delivered'
                and not flagged.has_unsubscribed
                and not flagged.has_complained
                and coalesce(flagged.days_since_last_delivery < segment_settings.share_prompt_window_days, false)
                and coalesce(flagged.days_since_last_click >= segment_settings.share_prompt_window_days, true)
        end as is_due_share_prompt
    from flagged
    cross join segment_settings
)

select * from final
