-- Kumar's two-by-two and the named groups, one row per customer known on as_of_date.
--
-- Both axes are judged among customers who have bought: a percentile rank is taken
-- over the buyers with a value only (percent_rank would otherwise count NULL rows).
-- CLV is predicted CLV (historical CLV when the models could not be fitted). High CRV
-- needs evidence from the customer's own referral record, never the population prior
-- alone: realized referral value, or a posterior referral rate of at least
-- high_crv_min_rate_multiple x the population's. Prospects sit outside the two-by-two
-- (value_segment 'prospect') unless they brought in paying customers, which makes them
-- advocates (CLV 0, referral value shown). Without a referrals file the two-by-two
-- falls back to CLV tiers (high_clv, low_clv) and segment_status says so.
with

measures as not materialized (
    select * from {{ ref('int_customers_measures_joined') }}
),

segment_settings as (
    select * from {{ ref('int_segment_settings') }}
),

axes as not materialized (
    select
        measures.*,
        not measures.is_prospect as is_buyer,
        case
            when measures.clv_status = 'not_fitted' then measures.historical_clv
            else measures.predicted_clv
        end as segment_clv,
        case
            when measures.clv_status = 'not_fitted' then 'historical_clv'
            else 'predicted_clv'
        end as segment_clv_measure
    from measures
),

-- Percentile ranks, each over the customers it ranks, taken on narrow rows and joined
-- back by customer (a window over the whole wide row would sort every column).
{% for measure in ['segment_clv', 'historical_clv', 'crv'] %}
    {{ measure }}_ranks as (
        select
            customer_id,
            percent_rank() over (order by {{ measure }}) as {{ measure }}_percentile
        from axes
        where is_buyer and {{ measure }} is not null
    ),

{% endfor %}
activity as (
    select
        axes.customer_id,
        axes.recent_net_revenue,
        axes.has_bought_in_window
        and coalesce(axes.probability_alive >= segment_settings.active_min_probability_alive, true) as is_active
    from axes
    cross join segment_settings
),

spend_ranks as (
    select
        customer_id,
        percent_rank() over (order by recent_net_revenue) as recent_spend_percentile
    from activity
    where is_active
),

spend_ranked as (
    select
        axes.*,
        {% for measure in ['segment_clv', 'historical_clv', 'crv'] %}
            {{ measure }}_ranks.{{ measure }}_percentile,
        {% endfor %}
        activity.is_active,
        spend_ranks.recent_spend_percentile
    from axes
    inner join activity
        on axes.customer_id = activity.customer_id
    {% for measure in ['segment_clv', 'historical_clv', 'crv'] %}
        left join {{ measure }}_ranks
            on axes.customer_id = {{ measure }}_ranks.customer_id
    {% endfor %}
    left join spend_ranks
        on axes.customer_id = spend_ranks.customer_id
),

evidence as (
    select
        spend_ranked.*,
        case
            when spend_ranked.crv is null then null
            when spend_ranked.realized_crv > 0 then 'realized'
            when spend_ranked.referral_rate_credible_multiple >= segment_settings.high_crv_min_rate_multiple
                then 'expected'
            else 'none'
        end as crv_evidence,
        case
            when spend_ranked.social_score_percentile >= segment_settings.high_social_percentile then 'social_score'
            when spend_ranked.forward_count > 0
                and spend_ranked.forward_percentile >= segment_settings.email_advocate_percentile then 'email_forwards'
            when spend_ranked.open_percentile >= segment_settings.email_advocate_percentile
                and spend_ranked.click_percentile >= segment_settings.email_advocate_percentile
                then 'email_opens_and_clicks'
        end as social_evidence
    from spend_ranked
    cross join segment_settings
),

flagged as (
    select
        evidence.*,
        coalesce(evidence.segment_clv_percentile >= segment_settings.high_clv_percentile, false) as is_high_clv,
        case
            when evidence.crv is null then null
            when evidence.is_prospect then coalesce(evidence.paying_referee_count, 0) > 0
            else evidence.crv_evidence in ('realized', 'expected')
                and evidence.crv_percentile >= segment_settings.high_crv_percentile
        end as is_high_crv,
        coalesce(evidence.social_score_percentile >= segment_settings.high_social_percentile, false)
            as is_high_social,
        coalesce(evidence.social_evidence in ('email_forwards', 'email_opens_and_clicks'), false)
            as is_email_advocate,
        evidence.is_prospect and coalesce(evidence.paying_referee_count, 0) > 0 as is_prospect_with_referral_value,
        evidence.is_active
        and evidence.recent_spend_percentile < segment_settings.light_buyer_spend_percentile
        and coalesce(evidence.share_of_wallet >= segment_settings.loyal_share_of_wallet, false)
            as is_loyal_light_buyer,
        evidence.is_buyer
        and coalesce(
            evidence.probability_alive < segment_settings.at_risk_max_probability_alive
            and (
                evidence.segment_clv_percentile >= segment_settings.high_clv_percentile
                or evidence.historical_clv_percentile >= segment_settings.high_clv_percentile
            ),
            false
        ) as is_at_risk_high_value
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
